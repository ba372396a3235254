//! The `mxshop` command line: `serve` (the default), `migrate`, `seed`, `user`, `import`.

use std::net::SocketAddr;
use std::path::PathBuf;

use anyhow::Context;
use clap::{Args, Parser, Subcommand};
use sea_orm_migration::MigratorTrait;
use tracing_subscriber::EnvFilter;

mod serve;

use crate::accounts::users;
use crate::config::{Config, LogFormat, Overrides};
use crate::db::{self, Migrator};
use crate::demo;
use crate::import;

#[derive(Debug, Parser)]
#[command(
    name = "mxshop",
    version,
    about = "An online-shop backend with Alipay payments, a drop-in for the MxShop Django REST API.",
    long_about = "An online-shop backend with Alipay payments, a drop-in for the MxShop Django REST API.\n\n\
        Without a subcommand, `serve` runs. Settings come from defaults, then ./mxshop.toml (or the file \
        named by MXSHOP_CONFIG), then MXSHOP_* environment variables, then these flags.",
    args_conflicts_with_subcommands = true
)]
pub struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    #[command(flatten)]
    flags: ConfigFlags,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Serve the shop: create the data directory, migrate, seed demo data into an empty database,
    /// then answer HTTP on the listen address.
    Serve(ConfigFlags),
    /// Apply pending database migrations and exit; running it again changes nothing.
    Migrate(ConfigFlags),
    /// Migrate, then seed the demo catalogue (goods, categories, images, banners…) if the database
    /// has no categories yet; never touches an existing catalogue.
    Seed {
        /// Grow the catalogue to this many goods (for load tests; extra goods reuse the demo
        /// images).
        #[arg(long, value_name = "N")]
        goods: Option<u32>,
        #[command(flatten)]
        flags: ConfigFlags,
    },
    /// Print the effective configuration (secrets redacted) and check it: keys, database, Alipay
    /// gateway, SMS provider, public URL. Exits non-zero with one line per problem.
    CheckConfig(ConfigFlags),
    /// Manage user accounts.
    #[command(subcommand)]
    User(UserCommand),
    /// Import data from another shop.
    #[command(subcommand)]
    Import(ImportCommand),
}

#[derive(Debug, Subcommand)]
enum ImportCommand {
    /// Move a Django MxShop database (goods, users with their passwords, orders…) into this shop's
    /// database, keeping ids. The target must be empty unless --merge.
    Django {
        /// The Django database: mysql://…, postgres://… or sqlite://… (only read).
        #[arg(long, value_name = "URL")]
        from: String,
        /// Django's MEDIA_ROOT: the referenced images and files are copied into the media directory.
        #[arg(long, value_name = "DIR")]
        media: Option<PathBuf>,
        /// Read and check everything, print the report, write nothing.
        #[arg(long)]
        dry_run: bool,
        /// Import into a database that has data: rows are inserted or updated by primary key
        /// (running it twice changes nothing the second time).
        #[arg(long)]
        merge: bool,
        /// The Django site ran with USE_TZ = True (its times are UTC); by default they are read as
        /// Beijing time, as MxShop's settings (USE_TZ = False, TIME_ZONE = 'Asia/Shanghai') store them.
        #[arg(long)]
        source_utc: bool,
        #[command(flatten)]
        flags: ConfigFlags,
    },
}

#[derive(Debug, Subcommand)]
enum UserCommand {
    /// Create a user. The password is read from the first line of standard input
    /// (e.g. `printf '%s\n' "$PW" | mxshop user create alice`).
    Create {
        username: String,
        /// The user's mobile number (also accepted at login).
        #[arg(long)]
        mobile: Option<String>,
        /// Make the user a superuser.
        #[arg(long)]
        superuser: bool,
        #[command(flatten)]
        flags: ConfigFlags,
    },
    /// Set a user's password (looked up by username or mobile), read from standard input.
    SetPassword {
        username: String,
        #[command(flatten)]
        flags: ConfigFlags,
    },
}

#[derive(Debug, Default, Clone, Args)]
struct ConfigFlags {
    /// Address to listen on [default: 127.0.0.1:8000]
    #[arg(long, value_name = "ADDR")]
    listen: Option<SocketAddr>,
    /// Data directory: SQLite file, media, generated secrets [default: ./data]
    #[arg(long, value_name = "DIR")]
    data_dir: Option<PathBuf>,
    /// Database URL: sqlite://…, postgres://… or mysql://… [default: <data dir>/mxshop.db]
    #[arg(long, value_name = "URL")]
    database_url: Option<String>,
    /// Directory of a built VueShop front end (index.html, static/) [default: ./frontend]
    #[arg(long, value_name = "DIR")]
    frontend_dir: Option<PathBuf>,
}

impl From<ConfigFlags> for Overrides {
    fn from(flags: ConfigFlags) -> Self {
        Self {
            listen: flags.listen,
            data_dir: flags.data_dir,
            database_url: flags.database_url,
            frontend_dir: flags.frontend_dir,
        }
    }
}

/// Parses the command line and runs the command.
pub async fn run() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let (command, flags) = match cli.command {
        None => (CommandKind::Serve, cli.flags),
        Some(Command::Serve(flags)) => (CommandKind::Serve, flags),
        Some(Command::Migrate(flags)) => (CommandKind::Migrate, flags),
        Some(Command::CheckConfig(flags)) => (CommandKind::CheckConfig, flags),
        Some(Command::Seed { goods, flags }) => (CommandKind::Seed { goods }, flags),
        Some(Command::User(UserCommand::Create { username, mobile, superuser, flags })) => {
            (CommandKind::CreateUser { username, mobile, superuser }, flags)
        }
        Some(Command::User(UserCommand::SetPassword { username, flags })) => {
            (CommandKind::SetPassword { username }, flags)
        }
        Some(Command::Import(ImportCommand::Django { from, media, dry_run, merge, source_utc, flags })) => {
            (CommandKind::ImportDjango(import::Options { from, media, dry_run, merge, source_utc }), flags)
        }
    };
    let config = Config::load(&flags.into())?;
    // Held to the end: dropping it writes the lines still queued.
    let _log_writer = init_logging(config.log_format);
    match command {
        CommandKind::Serve => serve::serve(config).await,
        CommandKind::Migrate => migrate(&config).await,
        CommandKind::CheckConfig => crate::check_config::run(&config).await,
        CommandKind::Seed { goods } => seed(&config, goods).await,
        CommandKind::CreateUser { username, mobile, superuser } => {
            let db = open_database(&config).await?;
            db::migrate(&db).await?;
            let user = users::create_user(&db, &username, mobile.as_deref(), read_password()?, superuser).await?;
            println!("created user {} (id {}){}", user.username, user.id, if superuser { ", superuser" } else { "" });
            Ok(())
        }
        CommandKind::SetPassword { username } => {
            let db = open_database(&config).await?;
            db::migrate(&db).await?;
            users::set_password(&db, &username, read_password()?).await?;
            println!("password of {username} changed");
            Ok(())
        }
        CommandKind::ImportDjango(options) => {
            // A dry run does not even create the database.
            let target = if options.dry_run {
                None
            } else {
                let db = open_database(&config).await?;
                db::migrate(&db).await?;
                Some(db)
            };
            import::run(&config, &options, target.as_ref()).await.map(drop)
        }
    }
}

enum CommandKind {
    Serve,
    Migrate,
    CheckConfig,
    Seed { goods: Option<u32> },
    CreateUser { username: String, mobile: Option<String>, superuser: bool },
    SetPassword { username: String },
    ImportDjango(import::Options),
}

/// The first line of standard input, without its line ending (never from a flag: flags end up in
/// shell histories and process lists).
fn read_password() -> anyhow::Result<String> {
    let mut line = String::new();
    std::io::stdin().read_line(&mut line).context("reading the password from standard input")?;
    let password = line.trim_end_matches(['\r', '\n']).to_owned();
    anyhow::ensure!(!password.is_empty(), "no password on standard input");
    Ok(password)
}

/// Lines are formatted on the thread that logs and written by a thread of their own, many per
/// write: a request never waits on a `write` to a slow terminal, pipe or journal. When the queue
/// is full, logging waits rather than dropping lines. The guard writes what is queued when dropped.
fn init_logging(format: LogFormat) -> tracing_appender::non_blocking::WorkerGuard {
    const QUEUED_LINES: usize = 64 * 1024;
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn,sea_orm=warn"));
    use std::io::IsTerminal;
    let (writer, guard) = tracing_appender::non_blocking::NonBlockingBuilder::default()
        .lossy(false)
        .buffered_lines_limit(QUEUED_LINES)
        .thread_name("mxshop-log")
        .finish(std::io::BufWriter::with_capacity(64 * 1024, std::io::stdout()));
    // Colours only for a person at a terminal, not in files and journals.
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::stdout().is_terminal())
        .with_writer(writer);
    match format {
        LogFormat::Pretty => builder.init(),
        LogFormat::Json => builder.json().init(),
    }
    guard
}

async fn open_database(config: &Config) -> anyhow::Result<sea_orm::DatabaseConnection> {
    crate::secrets::create_private_dir(&config.data_dir).context("creating the data directory")?;
    db::connect(&config.database_url(), config.db_max_connections).await
}

async fn migrate(config: &Config) -> anyhow::Result<()> {
    let db = open_database(config).await?;
    let pending = Migrator::get_pending_migrations(&db).await.context("reading migration state")?;
    db::migrate(&db).await?;
    let names: Vec<&str> = pending.iter().map(|m| m.name()).collect();
    if names.is_empty() {
        println!("database {} is up to date; nothing applied", db::redact(&config.database_url()));
    } else {
        println!(
            "applied {} migration(s) to {}: {}",
            names.len(),
            db::redact(&config.database_url()),
            names.join(", ")
        );
    }
    Ok(())
}

async fn seed(config: &Config, goods: Option<u32>) -> anyhow::Result<()> {
    let db = open_database(config).await?;
    db::migrate(&db).await?;
    if demo::seed_if_empty(&db, &config.media_dir()).await? {
        println!("seeded the demo catalogue; images in {}", config.media_dir().display());
    } else {
        println!("the database already has a catalogue; nothing seeded");
    }
    if let Some(target) = goods {
        let added = demo::grow_catalogue(&db, target).await?;
        println!("added {added} goods; the catalogue has at least {target}");
    }
    Ok(())
}
