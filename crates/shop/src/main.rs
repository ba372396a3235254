//! `mxshop`: see `shop::cli`.

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    shop::cli::run().await
}
