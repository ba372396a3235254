//! Offline Alipay gateway (work in progress: see the sandbox issue).
