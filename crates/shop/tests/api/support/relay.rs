//! A database on the PostgreSQL or MariaDB server this run tests (PostgreSQL on the SQLite run),
//! reached through a TCP relay the test can cut and that counts what the client sends.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use sea_orm::ConnectionTrait;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

use super::database::{Backend, backend, replace_database};

pub struct RelayedDatabase {
    admin_url: String,
    name: String,
    backend: Backend,
    pub relay_addr: SocketAddr,
    pub upstream: String,
}

impl RelayedDatabase {
    /// The database, and the relay's listener (not serving yet).
    pub async fn create() -> (Self, TcpListener) {
        let (backend, admin_url) = match backend() {
            (Backend::Sqlite, _) => (Backend::Postgres, "postgres://postgres@127.0.0.1:5432/postgres".to_owned()),
            (backend, url) => (backend, url.unwrap()),
        };
        let admin = sea_orm::Database::connect(admin_url.as_str())
            .await
            .unwrap_or_else(|e| panic!("this test needs the database server at {admin_url}: {e}"));
        let name = format!("mxshop_relayed_{}_{}", std::process::id(), rand::random::<u32>());
        admin.execute_unprepared(&format!("CREATE DATABASE {name}")).await.unwrap();
        let host = admin_url.split('@').nth(1).unwrap().split('/').next().unwrap().to_owned();
        let relay = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let relay_addr = relay.local_addr().unwrap();
        (Self { admin_url, name, backend, relay_addr, upstream: host }, relay)
    }

    /// The database's URL through the relay.
    pub fn url(&self) -> String {
        let relayed = self.admin_url.replacen(&self.upstream, &self.relay_addr.to_string(), 1);
        replace_database(&relayed, &self.name)
    }

    pub async fn drop_database(&self) {
        let admin = sea_orm::Database::connect(self.admin_url.as_str()).await.unwrap();
        let drop = match self.backend {
            Backend::Postgres => format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name),
            _ => format!("DROP DATABASE IF EXISTS {}", self.name),
        };
        admin.execute_unprepared(&drop).await.unwrap();
    }
}

/// A running relay: aborting it also closes every relayed connection.
pub struct Relay {
    task: tokio::task::JoinHandle<()>,
    client_sends: Arc<AtomicUsize>,
    open: Arc<AtomicUsize>,
}

impl Relay {
    /// Relays connections from `listener` to `upstream`.
    pub fn spawn(listener: TcpListener, upstream: String) -> Self {
        let client_sends = Arc::new(AtomicUsize::new(0));
        let open = Arc::new(AtomicUsize::new(0));
        let (counter, connections_open) = (client_sends.clone(), open.clone());
        let task = tokio::spawn(async move {
            let mut connections = tokio::task::JoinSet::new();
            loop {
                let Ok((client, _)) = listener.accept().await else { return };
                let open = OpenConnection::new(connections_open.clone());
                connections.spawn(relay_connection(client, upstream.clone(), counter.clone(), open));
            }
        });
        Self { task, client_sends, open }
    }

    /// How many times the relay has read from a client: a client that waits for each answer
    /// before it sends again (a database driver does) sends once per exchange.
    pub fn client_sends(&self) -> usize {
        self.client_sends.load(Ordering::SeqCst)
    }

    pub fn abort(&self) {
        self.task.abort();
    }

    /// Aborts the relay and waits until every relayed connection is closed and its listener gone.
    pub async fn cut(self) {
        self.task.abort();
        let _ = self.task.await;
        for _ in 0..1000 {
            if self.open.load(Ordering::SeqCst) == 0 {
                return;
            }
            tokio::time::sleep(std::time::Duration::from_millis(1)).await;
        }
        panic!("relayed connections still open 1 s after the relay was cut");
    }
}

/// Counts a relayed connection as open until it is dropped (closed, or its task aborted).
struct OpenConnection(Arc<AtomicUsize>);

impl OpenConnection {
    fn new(open: Arc<AtomicUsize>) -> Self {
        open.fetch_add(1, Ordering::SeqCst);
        Self(open)
    }
}

impl Drop for OpenConnection {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

async fn relay_connection(client: TcpStream, upstream: String, client_sends: Arc<AtomicUsize>, _open: OpenConnection) {
    let Ok(server) = TcpStream::connect(upstream).await else { return };
    let (mut from_client, mut to_client) = client.into_split();
    let (mut from_server, mut to_server) = server.into_split();
    let upward = async {
        let mut buffer = vec![0; 64 * 1024];
        loop {
            let read = from_client.read(&mut buffer).await?;
            if read == 0 {
                return to_server.shutdown().await;
            }
            client_sends.fetch_add(1, Ordering::SeqCst);
            to_server.write_all(&buffer[..read]).await?;
        }
    };
    let downward = tokio::io::copy(&mut from_server, &mut to_client);
    let _: (std::io::Result<()>, std::io::Result<u64>) = tokio::join!(upward, downward);
}
