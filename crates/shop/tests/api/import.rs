//! `mxshop import django`: a Django MxShop database — on MariaDB and on SQLite, made from the
//! catalogue fixture plus users with real Django password hashes, orders in every status,
//! favourites, messages with files, addresses and carts — imported into this run's database by
//! the real binary, then checked over HTTP against the shop started on it.

use std::collections::BTreeMap;
use std::fmt::Debug;
use std::num::NonZeroU32;
use std::path::{Path, PathBuf};

use base64::Engine;
use sea_orm::{ConnectOptions, ConnectionTrait, Database, DatabaseConnection, EntityTrait};
use serde_json::{Value, json};
use shop::db::entities::{
    banner, brand, category, goods, goods_image, hot_search_word, index_ad, order_goods, order_info, shopping_cart,
    user, user_address, user_fav, user_message,
};

use crate::binary::{self, Start};
use crate::support::{Backend, TestDatabase};

const FIXTURE: &str = "../../../shared/fixtures/django-mxshop-catalog.mysql.sql";

/// The server a Django source is made on: the run's (`variable`), or the local one CI always
/// starts, even on the SQLite run; checked first, so that a missing server says so and how to
/// point at another.
async fn source_server(variable: &str, fallback: &str, kind: &str) -> String {
    let url = std::env::var(variable).ok().filter(|url| !url.is_empty()).unwrap_or_else(|| fallback.to_owned());
    if let Err(error) = Database::connect(url.as_str()).await {
        panic!(
            "the Django import tests make a {kind} source database and found no {kind} server at {url}: \
             {error}. CI starts one on 127.0.0.1; start one there, or set {variable} to the URL of another"
        );
    }
    url
}

async fn mariadb_server() -> String {
    source_server("MXSHOP_TEST_MYSQL_URL", "mysql://root@127.0.0.1:3306/mysql", "MariaDB").await
}

async fn postgres_server() -> String {
    source_server("MXSHOP_TEST_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/postgres", "PostgreSQL").await
}

/// `pbkdf2_sha256$<iterations>$<salt>$<base64 hash>`, as Django's `PBKDF2PasswordHasher` writes it.
fn django_hash(password: &str, salt: &str) -> String {
    let iterations = 36_000;
    let mut hash = [0u8; 32];
    aws_lc_rs::pbkdf2::derive(
        aws_lc_rs::pbkdf2::PBKDF2_HMAC_SHA256,
        NonZeroU32::new(iterations).unwrap(),
        salt.as_bytes(),
        password.as_bytes(),
        &mut hash,
    );
    format!("pbkdf2_sha256${iterations}${salt}${}", base64::engine::general_purpose::STANDARD.encode(hash))
}

#[test]
fn django_hashes_match_python_hashlib() {
    // python3 -c "import hashlib, base64; print(base64.b64encode(hashlib.pbkdf2_hmac('sha256',
    //     b'django-pass-1', b'Qm9zc2FsdA', 36000)).decode())"
    assert_eq!(
        django_hash("django-pass-1", "Qm9zc2FsdA"),
        "pbkdf2_sha256$36000$Qm9zc2FsdA$3v/o1xs1SDys8FiR+EGD76ryKQMgzkbRoy7b+JBJ80A="
    );
}

/// The fixture's statements, one per item (each ends with `;` at the end of a line).
fn fixture_statements() -> Vec<String> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(FIXTURE);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()));
    let mut statements = Vec::new();
    let mut current = String::new();
    for line in text.lines().filter(|line| !line.starts_with("--") && !line.trim().is_empty()) {
        current.push_str(line);
        current.push('\n');
        if line.trim_end().ends_with(';') {
            statements.push(std::mem::take(&mut current));
        }
    }
    statements
}

/// A MySQL `CREATE TABLE` of the dump as Django's SQLite or PostgreSQL backend would have made it
/// (`mysql_type → (SQLite type, PostgreSQL type)`); with the `(table, column)` of each boolean.
/// PostgreSQL's booleans are made `smallint` first, so the dump's `0`/`1` go in, and turned into
/// `boolean` once the rows are in.
fn ddl(statement: &str, backend: Backend) -> (String, Vec<(String, String)>) {
    const TYPES: [(&str, &str, &str); 5] = [
        ("tinyint(1)", "bool", "smallint"),
        ("int(11)", "integer", "integer"),
        ("datetime(6)", "datetime", "timestamp with time zone"),
        ("double", "real", "double precision"),
        ("longtext", "text", "text"),
    ];
    let table = statement.split('`').nth(1).unwrap().to_owned();
    let mut booleans = Vec::new();
    let lines: Vec<String> = statement
        .lines()
        .filter(|line| !line.trim_start().starts_with("KEY "))
        .map(|line| {
            if line.contains(" tinyint(1) ") {
                booleans.push((table.clone(), line.split('`').nth(1).unwrap().to_owned()));
            }
            let mut line = line
                .replace(" CHARACTER SET utf8 COLLATE utf8_general_ci", "")
                .replace(" AUTO_INCREMENT", "")
                .replace(" USING BTREE", "")
                .replace('`', "\"");
            for (mysql, sqlite, postgres) in TYPES {
                line = line.replace(mysql, if backend == Backend::Postgres { postgres } else { sqlite });
            }
            if let Some(at) = line.find("UNIQUE KEY \"") {
                let columns = line[at..].find('(').unwrap() + at;
                line = format!("{}UNIQUE {}", &line[..at], &line[columns..]);
            }
            if line.starts_with(") ENGINE") { ");".to_owned() } else { line }
        })
        .collect();
    (lines.join("\n").replace(",\n);", "\n);"), booleans)
}

/// The Django rows the fixture lacks: users (Django pbkdf2 hashes; one social-login user with an
/// unusable password; carol shares bob's mobile), favourites, a message with a file, an address,
/// a cart, orders in every status (one with a float amount that is no whole number of fen) and
/// their lines (one for goods 999, deleted since).
fn django_rows() -> Vec<String> {
    let alice = django_hash("alice-pw-2019", "aLiCeSalt01");
    let bob = django_hash("bob-pw-2019", "b0bSalt0002");
    let carol = django_hash("carol-pw-2019", "CarolSalt03");
    vec![
        format!(
            "INSERT INTO users_userprofile (id, password, last_login, is_superuser, username, first_name, last_name, \
             is_staff, is_active, date_joined, name, birthday, gender, mobile, email) VALUES \
             (1, '{alice}', NULL, 0, 'alice', '', '', 0, 1, '2019-03-01 10:00:00.000000', '爱丽丝', '1990-05-01', \
              'female', '13800000001', 'alice@example.com'), \
             (2, '{bob}', '2020-01-01 08:00:00.000000', 1, 'bob', '', '', 1, 1, '2019-03-02 10:00:00.000000', NULL, \
              NULL, 'male', '13800000002', NULL), \
             (3, '!Xk2j3SocialLoginOnly', NULL, 0, 'weibo_7788', '', '', 0, 1, '2019-03-03 10:00:00.000000', NULL, \
              NULL, 'female', '13800000003', ''), \
             (4, '{carol}', NULL, 0, 'carol', '', '', 0, 1, '2019-03-04 10:00:00.000000', NULL, NULL, 'female', \
              '13800000002', NULL)"
        ),
        "INSERT INTO user_operation_userfav (id, add_time, goods_id, user_id) VALUES \
         (1, '2020-05-01 12:00:00.000000', 1, 1), (2, '2020-05-01 12:01:00.000000', 2, 1), \
         (3, '2020-05-01 12:02:00.000000', 3, 2)"
            .to_owned(),
        "INSERT INTO user_operation_userleavingmessage (id, message_type, subject, message, file, add_time, user_id) \
         VALUES (1, 2, '发货太慢', '一个星期了还没发货', 'message/images/slow.txt', '2020-05-02 12:00:00.000000', 1)"
            .to_owned(),
        "INSERT INTO user_operation_useraddress (id, province, city, district, address, signer_name, signer_mobile, \
         add_time, user_id) VALUES (1, '北京市', '北京市', '海淀区', '中关村大街1号', '爱丽丝', '13800000001', \
         '2020-05-03 12:00:00.000000', 1)"
            .to_owned(),
        "INSERT INTO trade_shoppingcart (id, nums, add_time, goods_id, user_id) VALUES \
         (1, 2, '2020-05-04 12:00:00.000000', 5, 1)"
            .to_owned(),
        "INSERT INTO trade_orderinfo (id, order_sn, nonce_str, trade_no, pay_status, pay_type, post_script, \
         order_mount, pay_time, address, signer_name, singer_mobile, add_time, user_id) VALUES \
         (1, '20200501120000101', NULL, '2020050122001400000001', 'TRADE_SUCCESS', 'alipay', '尽快发货', 15, \
          '2020-05-01 12:05:00.000000', '北京市北京市海淀区中关村大街1号', '爱丽丝', '13800000001', \
          '2020-05-01 12:00:00.000000', 1), \
         (2, '20200502120000102', NULL, '2020050222001400000002', 'TRADE_FINISHED', 'alipay', '', 24.8, \
          '2020-05-02 12:05:00.000000', '北京市北京市海淀区中关村大街1号', '爱丽丝', '13800000001', \
          '2020-05-02 12:00:00.000000', 1), \
         (3, '20200503120000103', NULL, NULL, 'TRADE_CLOSED', 'alipay', '', 15, NULL, \
          '北京市北京市海淀区中关村大街1号', '爱丽丝', '13800000001', '2020-05-03 12:00:00.000000', 1), \
         (4, '20200504120000104', NULL, NULL, 'WAIT_BUYER_PAY', 'alipay', '', 30, NULL, \
          '北京市北京市海淀区中关村大街1号', '爱丽丝', '13800000001', '2020-05-04 12:00:00.000000', 1), \
         (5, '20200505120000105', NULL, NULL, 'paying', 'alipay', '', 656.6999999999999, NULL, \
          '北京市北京市海淀区中关村大街1号', '爱丽丝', '13800000001', '2020-05-05 12:00:00.000000', 1), \
         (6, '20200506120000206', NULL, '2020050622001400000006', 'TRADE_SUCCESS', 'alipay', '', 15, \
          '2020-05-06 12:05:00.000000', '上海市', 'bob', '13800000002', '2020-05-06 12:00:00.000000', 2)"
            .to_owned(),
        "INSERT INTO trade_ordergoods (id, goods_num, add_time, goods_id, order_id) VALUES \
         (1, 1, '2020-05-01 12:00:00.000000', 1, 1), (2, 1, '2020-05-02 12:00:00.000000', 3, 2), \
         (3, 1, '2020-05-03 12:00:00.000000', 5, 3), (4, 2, '2020-05-04 12:00:00.000000', 1, 4), \
         (5, 1, '2020-05-05 12:00:00.000000', 2, 5), (6, 1, '2020-05-05 12:00:00.000000', 999, 5), \
         (7, 1, '2020-05-06 12:00:00.000000', 1, 6)"
            .to_owned(),
    ]
}

/// One connection, so that session settings (foreign key checks off, as in the dump) hold.
async fn one_connection(url: &str) -> DatabaseConnection {
    let mut options = ConnectOptions::new(url.to_owned());
    options.max_connections(1).sqlx_logging(false);
    Database::connect(options).await.unwrap_or_else(|e| panic!("connecting to {url}: {e}"))
}

/// A Django MxShop database: on a MariaDB or PostgreSQL server (a database of its own, dropped
/// after) or in a SQLite file; `extra` statements run on it last (bad-input cases).
struct DjangoSource {
    url: String,
    _database: TestDatabase,
}

impl DjangoSource {
    async fn mariadb(extra: &[&str]) -> Self {
        let server = mariadb_server().await;
        let database = TestDatabase::create_on(Backend::MySql, Some(server.clone())).await;
        let db = one_connection(&database.url).await;
        let fixture = fixture_statements();
        let statements = fixture.iter().map(String::as_str).chain(["SET FOREIGN_KEY_CHECKS = 0"]);
        for statement in statements {
            db.execute_unprepared(statement).await.unwrap_or_else(|e| panic!("{statement}: {e}"));
        }
        for statement in django_rows().iter().map(String::as_str).chain(extra.iter().copied()) {
            db.execute_unprepared(statement).await.unwrap_or_else(|e| panic!("{statement}: {e}"));
        }
        db.close().await.unwrap();
        Self { url: database.url.clone(), _database: database }
    }

    async fn sqlite(extra: &[&str]) -> Self {
        Self::translated(TestDatabase::create_on(Backend::Sqlite, None).await, &["PRAGMA foreign_keys = OFF"], extra)
            .await
    }

    /// As Django's PostgreSQL backend with `USE_TZ = False` has it: `timestamptz` columns written
    /// in the connection's zone, Asia/Shanghai.
    async fn postgres(extra: &[&str]) -> Self {
        let server = postgres_server().await;
        let database = TestDatabase::create_on(Backend::Postgres, Some(server)).await;
        // Replica mode skips foreign key checks, as the dump's FOREIGN_KEY_CHECKS = 0 does.
        let session = ["SET TIME ZONE 'Asia/Shanghai'", "SET session_replication_role = replica"];
        Self::translated(database, &session, extra).await
    }

    /// The fixture with its tables made in the dialect of `database`, then the rows.
    async fn translated(database: TestDatabase, session: &[&str], extra: &[&str]) -> Self {
        let db = one_connection(&database.url).await;
        let mut statements: Vec<String> = session.iter().map(|s| (*s).to_owned()).collect();
        let mut booleans = Vec::new();
        for statement in fixture_statements().into_iter().filter(|s| !s.starts_with("SET ")) {
            if statement.starts_with("CREATE TABLE") {
                let (create, columns) = ddl(&statement, database.backend);
                statements.push(create);
                booleans.extend(columns);
            } else {
                statements.push(statement.replace('`', "\""));
            }
        }
        statements.extend(django_rows());
        statements.extend(extra.iter().map(|s| (*s).to_owned()));
        if database.backend == Backend::Postgres {
            statements.extend(booleans.iter().map(|(table, column)| {
                format!("ALTER TABLE {table} ALTER COLUMN {column} TYPE boolean USING {column} <> 0")
            }));
        }
        for statement in &statements {
            db.execute_unprepared(statement).await.unwrap_or_else(|e| panic!("{statement}: {e}"));
        }
        db.close().await.unwrap();
        Self { url: database.url.clone(), _database: database }
    }

    /// Changes the Django database (as the Django shop would, between two imports).
    async fn execute(&self, statements: &[&str]) {
        let db = one_connection(&self.url).await;
        for statement in statements {
            db.execute_unprepared(statement).await.unwrap_or_else(|e| panic!("{statement}: {e}"));
        }
        db.close().await.unwrap();
    }

    /// id → (name, shop_price) of every goods, as the Django database has them.
    async fn goods(&self) -> BTreeMap<i64, (String, f64)> {
        let db = one_connection(&self.url).await;
        let rows = db
            .query_all_raw(sea_orm::Statement::from_string(
                db.get_database_backend(),
                "SELECT id, name, shop_price FROM goods_goods",
            ))
            .await
            .unwrap();
        rows.iter()
            .map(|row| {
                let id: i32 = row.try_get("", "id").unwrap();
                let price: f64 = row.try_get("", "shop_price").unwrap();
                (i64::from(id), (row.try_get("", "name").unwrap(), price))
            })
            .collect()
    }
}

/// The import target: this run's database, and a data directory (`<dir>/data`) for the shop.
struct Target {
    database: TestDatabase,
    dir: tempfile::TempDir,
}

impl Target {
    async fn new() -> Self {
        Self { database: TestDatabase::create().await, dir: tempfile::tempdir().unwrap() }
    }

    fn data_dir(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    /// `mxshop ARGS` against the target; (success, stdout, stderr).
    fn mxshop(&self, args: &[&str], stdin: &str) -> (bool, String, String) {
        let (ok, stdout, stderr) = binary::run(args, &self.database.url, &self.data_dir(), stdin);
        assert!(!stderr.contains("panicked") && !stdout.contains("panicked"), "mxshop {args:?} panicked: {stderr}");
        (ok, stdout, stderr)
    }

    fn import(&self, source: &DjangoSource, extra: &[&str]) -> (bool, String, String) {
        let mut args = vec!["import", "django", "--from", &source.url];
        args.extend_from_slice(extra);
        self.mxshop(&args, "")
    }

    /// Every row of every imported table, in a comparable form.
    async fn snapshot(&self) -> Vec<String> {
        async fn rows<E: EntityTrait>(db: &DatabaseConnection) -> Vec<String>
        where
            E::Model: Debug,
        {
            let mut rows: Vec<String> = E::find().all(db).await.unwrap().iter().map(|m| format!("{m:?}")).collect();
            rows.sort();
            rows
        }
        let db = shop::db::connect(&self.database.url, 1).await.unwrap();
        let mut all = Vec::new();
        all.extend(rows::<category::Entity>(&db).await);
        all.extend(rows::<brand::Entity>(&db).await);
        all.extend(rows::<goods::Entity>(&db).await);
        all.extend(rows::<goods_image::Entity>(&db).await);
        all.extend(rows::<banner::Entity>(&db).await);
        all.extend(rows::<index_ad::Entity>(&db).await);
        all.extend(rows::<hot_search_word::Entity>(&db).await);
        all.extend(rows::<user::Entity>(&db).await);
        all.extend(rows::<user_fav::Entity>(&db).await);
        all.extend(rows::<user_message::Entity>(&db).await);
        all.extend(rows::<user_address::Entity>(&db).await);
        all.extend(rows::<shopping_cart::Entity>(&db).await);
        all.extend(rows::<order_info::Entity>(&db).await);
        all.extend(rows::<order_goods::Entity>(&db).await);
        db.close().await.unwrap();
        all
    }

    async fn db(&self) -> DatabaseConnection {
        shop::db::connect(&self.database.url, 1).await.unwrap()
    }

    /// Rows in `goods`, or `None` when the table does not exist (nothing was even migrated).
    async fn goods_rows(&self) -> Option<i64> {
        let db = shop::db::connect(&self.database.url, 1).await.unwrap();
        let row = db
            .query_one_raw(sea_orm::Statement::from_string(db.get_database_backend(), "SELECT COUNT(*) FROM goods"))
            .await
            .ok()?;
        row.map(|row| row.try_get_by_index::<i64>(0).unwrap())
    }
}

/// Django's MEDIA_ROOT with two of the files the rows name (the others are missing, as in real
/// dumps).
fn media_root() -> tempfile::TempDir {
    let root = tempfile::tempdir().unwrap();
    for (name, content) in
        [("goods/images/liuyong_wzq8kXx.png", &b"\x89PNG liuyong"[..]), ("message/images/slow.txt", b"slow delivery")]
    {
        let path = root.path().join(name);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, content).unwrap();
    }
    root
}

/// The report file the import named in its output.
fn report(stdout: &str) -> Value {
    let path = stdout.lines().find_map(|line| line.strip_prefix("report written to ")).expect("a report path");
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn warnings(report: &Value) -> Vec<String> {
    report["warnings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| format!("{} {}: {}", w["entity"].as_str().unwrap(), w["id"], w["message"].as_str().unwrap()))
        .collect()
}

fn table<'a>(report: &'a Value, entity: &str) -> &'a Value {
    report["tables"].as_array().unwrap().iter().find(|t| t["entity"] == entity).unwrap()
}

async fn login(client: &reqwest::Client, shop: &binary::Shop, username: &str, password: &str) -> Option<String> {
    let response = client
        .post(shop.url("/login/"))
        .json(&json!({"username": username, "password": password}))
        .send()
        .await
        .unwrap();
    if response.status() != 200 {
        return None;
    }
    Some(response.json::<Value>().await.unwrap()["token"].as_str().unwrap().to_owned())
}

async fn get(client: &reqwest::Client, shop: &binary::Shop, path: &str, token: &str) -> Value {
    let response = client.get(shop.url(path)).bearer_auth(token).send().await.unwrap();
    assert_eq!(response.status(), 200, "GET {path}");
    response.json().await.unwrap()
}

/// The whole acceptance path for one source into this run's database.
async fn imports_django(source: DjangoSource) {
    let target = Target::new().await;
    let media = media_root();
    let media_arg = media.path().to_str().unwrap();

    // A dry run reads and reports everything and writes nothing, not even the schema.
    let (ok, stdout, stderr) = target.import(&source, &["--media", media_arg, "--dry-run"]);
    assert!(ok, "dry run: {stderr}");
    assert!(stdout.contains("would import"), "{stdout}");
    assert!(!stdout.contains("report written"), "{stdout}");
    assert_eq!(target.goods_rows().await, None, "a dry run created tables");
    assert!(!target.data_dir().join("media/goods").exists(), "a dry run copied media");

    let (ok, stdout, stderr) = target.import(&source, &["--media", media_arg]);
    assert!(ok, "import: {stdout}\n{stderr}");
    let report = report(&stdout);
    assert_eq!(table(&report, "goods")["imported"], 50, "{report:#}");
    assert_eq!(table(&report, "users")["imported"], 4);
    assert_eq!(table(&report, "orders")["imported"], 6);
    assert_eq!(table(&report, "order lines")["imported"], 6);
    assert_eq!(table(&report, "order lines")["skipped"]["goods missing"], 1);
    let warnings = warnings(&report);
    let expect = |needle: &str| {
        assert!(warnings.iter().any(|w| w.contains(needle)), "no warning with {needle:?} in {warnings:#?}");
    };
    expect("order lines 6: not imported: its goods 999 does not exist (order 5)");
    expect("users 3: weibo_7788 has an unusable password");
    expect("users 4: carol's mobile 13800000002 belongs to another user too");
    expect("orders 5: order_mount 656.6999999999999 is not a whole number of fen; imported as 656.70");
    expect("orders 5: order_mount 656.70 differs from its lines");
    expect("goods 106: goods_front_image holds the placeholder \"空着\"");
    expect("media file goods/images/ai_fRXMMzv.png is not in");
    let copied = target.data_dir().join("media/goods/images/liuyong_wzq8kXx.png");
    assert_eq!(std::fs::read(copied).unwrap(), b"\x89PNG liuyong");
    assert_eq!(std::fs::read(target.data_dir().join("media/message/images/slow.txt")).unwrap(), b"slow delivery");

    // Without --merge, a database that has data is refused.
    let (ok, _, stderr) = target.import(&source, &[]);
    assert!(!ok && stderr.contains("not empty"), "{stderr}");

    // A second import with --merge changes nothing.
    let before = target.snapshot().await;
    assert!(before.len() > 80, "{}", before.len());
    let (ok, stdout, stderr) = target.import(&source, &["--merge"]);
    assert!(ok, "merge: {stdout}\n{stderr}");
    assert_eq!(target.snapshot().await, before, "a second import changed the database");

    // Django goes on: a goods renamed and repriced, one added. A --merge applies exactly that.
    source
        .execute(&[
            "UPDATE goods_goods SET name = '刘墉散文精选（修订版）', shop_price = 16.5 WHERE id = 1",
            "INSERT INTO goods_goods (id, goods_sn, name, click_num, sold_num, fav_num, goods_num, market_price, \
             shop_price, goods_brief, goods_desc, ship_free, goods_front_image, is_new, is_hot, add_time, \
             category_id) SELECT 2000, 'sn-new-2000', '新到的书', 0, 0, 0, 9, 30, 25.5, goods_brief, goods_desc, \
             ship_free, goods_front_image, is_new, is_hot, add_time, category_id FROM goods_goods WHERE id = 1",
        ])
        .await;
    let (ok, stdout, stderr) = target.import(&source, &["--merge"]);
    assert!(ok, "merge: {stdout}\n{stderr}");
    let after = target.snapshot().await;
    let gone: Vec<&String> = before.iter().filter(|row| !after.contains(row)).collect();
    let came: Vec<&String> = after.iter().filter(|row| !before.contains(row)).collect();
    assert_eq!(gone.len(), 1, "{gone:#?}");
    assert!(gone[0].starts_with("Model { id: 1, category_id:") && gone[0].contains("刘墉散文精选\""), "{gone:#?}");
    assert_eq!(came.len(), 2, "{came:#?}");
    let db = target.db().await;
    let one = goods::Entity::find_by_id(1).one(&db).await.unwrap().unwrap();
    assert_eq!((one.name.as_str(), one.shop_price_fen), ("刘墉散文精选（修订版）", 1650));
    let new = goods::Entity::find_by_id(2000).one(&db).await.unwrap().unwrap();
    assert_eq!((new.goods_sn.as_str(), new.name.as_str(), new.shop_price_fen), ("sn-new-2000", "新到的书", 2550));
    db.close().await.unwrap();

    // New rows get ids past the imported ones (sequences advanced).
    let (ok, stdout, stderr) = target.mxshop(&["user", "create", "newcomer"], "newcomer-pw-1\n");
    assert!(ok, "{stderr}");
    assert!(stdout.contains("(id 5)"), "{stdout}");

    let Target { database, dir } = target;
    let mut shop = Start::new().run_on(database, dir).await;
    let client = shop.client_from("127.0.0.1");

    // The same goods, ids, names and prices in yuan.
    let mut listed = BTreeMap::new();
    let mut page = 1;
    loop {
        let body: Value = client
            .get(shop.url(&format!("/goods/?page_size=100&page={page}")))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        for goods in body["results"].as_array().unwrap() {
            let name = goods["name"].as_str().unwrap().to_owned();
            listed.insert(goods["id"].as_i64().unwrap(), (name, goods["shop_price"].as_f64().unwrap()));
        }
        if body["next"].is_null() {
            break;
        }
        page += 1;
    }
    assert_eq!(listed, source.goods().await);

    // Django users log in with their own passwords, by username and by mobile.
    assert!(login(&client, &shop, "alice", "wrong-password").await.is_none());
    let token = login(&client, &shop, "alice", "alice-pw-2019").await.expect("alice by username");
    let by_mobile = login(&client, &shop, "13800000001", "alice-pw-2019").await.expect("alice by mobile");
    for token in [&token, &by_mobile] {
        let orders = get(&client, &shop, "/orders/", token).await;
        let sns: Vec<&str> = orders.as_array().unwrap().iter().map(|o| o["order_sn"].as_str().unwrap()).collect();
        assert_eq!(sns.len(), 5, "{orders:#}");
        for sn in ["20200501120000101", "20200502120000102", "20200503120000103", "20200504120000104"] {
            assert!(sns.contains(&sn), "{sn} missing from {sns:?}");
        }
    }
    let orders = get(&client, &shop, "/orders/", &token).await;
    let order = |id: i64| orders.as_array().unwrap().iter().find(|o| o["id"] == id).unwrap().clone();
    assert_eq!(order(1)["pay_status"], "TRADE_SUCCESS");
    assert_eq!(order(1)["trade_no"], "2020050122001400000001");
    assert_eq!(order(1)["order_mount"], 15.0);
    assert_eq!(order(2)["pay_status"], "TRADE_FINISHED");
    assert_eq!(order(3)["pay_status"], "TRADE_CLOSED");
    assert_eq!(order(5)["order_mount"], 656.7);
    // Django's local (Beijing) times come back as they were entered.
    assert!(order(1)["add_time"].as_str().unwrap().starts_with("2020-05-01 12:00"), "{:#}", order(1));
    let favourites = get(&client, &shop, "/userfavs/", &token).await;
    let mut favourite_goods: Vec<i64> =
        favourites.as_array().unwrap().iter().map(|f| f["goods"]["id"].as_i64().unwrap()).collect();
    favourite_goods.sort_unstable();
    assert_eq!(favourite_goods, [1, 2], "{favourites:#}");
    let addresses = get(&client, &shop, "/address/", &token).await;
    assert_eq!(addresses.as_array().unwrap().len(), 1, "{addresses:#}");
    assert_eq!(addresses[0]["address"], "中关村大街1号");
    let messages = get(&client, &shop, "/messages/", &token).await;
    assert_eq!(messages.as_array().unwrap().len(), 1, "{messages:#}");
    assert_eq!(messages[0]["subject"], "发货太慢");
    assert!(messages[0]["file"].as_str().unwrap().ends_with("/media/message/images/slow.txt"), "{messages:#}");
    let cart = get(&client, &shop, "/shopcarts/", &token).await;
    assert_eq!(cart.as_array().unwrap().len(), 1, "{cart:#}");
    assert_eq!(cart[0]["goods"]["id"], 5);
    assert_eq!(cart[0]["nums"], 2);

    // The user who lost their mobile to a duplicate logs in by username; the social-login user
    // only after `mxshop user set-password`.
    assert!(login(&client, &shop, "carol", "carol-pw-2019").await.is_some());
    assert!(login(&client, &shop, "13800000002", "bob-pw-2019").await.is_some(), "bob keeps his mobile");
    assert!(login(&client, &shop, "weibo_7788", "Xk2j3SocialLoginOnly").await.is_none());
    shop.cli(&["user", "set-password", "weibo_7788"], "a-new-password-1\n");
    assert!(login(&client, &shop, "weibo_7788", "a-new-password-1").await.is_some());
    // An absolute image URL of the dump is kept, and served as it is.
    let goods: Value = client.get(shop.url("/goods/125/")).send().await.unwrap().json().await.unwrap();
    let front = goods["goods_front_image"].as_str().unwrap();
    assert!(front.starts_with("http://vueshopstatic.mtianyan.cn/"), "{front}");

    let image = client.get(shop.url("/media/goods/images/liuyong_wzq8kXx.png")).send().await.unwrap();
    assert_eq!(image.status(), 200);
    assert_eq!(image.bytes().await.unwrap().as_ref(), b"\x89PNG liuyong");

    // A later --merge (the shop stopped, so that its payment jobs do not run meanwhile) never
    // brings the old (unusable) password back, and leaves every order as Django has it.
    shop.stop();
    let (ok, _, stderr) = binary::run(
        &["import", "django", "--from", &source.url, "--merge"],
        &shop.database.url,
        &shop.data_path(""),
        "",
    );
    assert!(ok, "{stderr}");
    let db = shop::db::connect(&shop.database.url, 1).await.unwrap();
    let social = user::Entity::find_by_id(3).one(&db).await.unwrap().unwrap();
    assert!(social.password.starts_with("$argon2"), "{}", social.password);
    let mut statuses: Vec<(i32, String, bool)> = order_info::Entity::find()
        .all(&db)
        .await
        .unwrap()
        .into_iter()
        .map(|order| (order.id, order.pay_status, order.pay_time.is_some()))
        .collect();
    statuses.sort();
    let expected = [
        (1, "TRADE_SUCCESS", true),
        (2, "TRADE_FINISHED", true),
        (3, "TRADE_CLOSED", false),
        (4, "paying", false),
        (5, "paying", false),
        (6, "TRADE_SUCCESS", true),
    ];
    let expected: Vec<(i32, String, bool)> =
        expected.iter().map(|(id, s, paid)| (*id, (*s).to_owned(), *paid)).collect();
    assert_eq!(statuses, expected);
    db.close().await.unwrap();
}

#[tokio::test]
async fn imports_django_from_mariadb() {
    imports_django(DjangoSource::mariadb(&[]).await).await;
}

#[tokio::test]
async fn imports_django_from_sqlite() {
    imports_django(DjangoSource::sqlite(&[]).await).await;
}

#[tokio::test]
async fn imports_django_from_postgres() {
    imports_django(DjangoSource::postgres(&[]).await).await;
}

#[tokio::test]
async fn refuses_a_database_that_is_not_django() {
    let target = Target::new().await;
    let not_django = TestDatabase::create_on(Backend::Sqlite, None).await;
    let db = one_connection(&not_django.url).await;
    db.execute_unprepared("CREATE TABLE notes (id integer primary key, body text)").await.unwrap();
    db.close().await.unwrap();
    let source = DjangoSource { url: not_django.url.clone(), _database: not_django };
    let (ok, _, stderr) = target.import(&source, &[]);
    assert!(!ok);
    assert!(stderr.contains("not a Django MxShop database"), "{stderr}");
    assert_eq!(target.goods_rows().await.unwrap_or_default(), 0);
}

#[tokio::test]
async fn refuses_a_django_database_with_a_missing_table() {
    let target = Target::new().await;
    let source = DjangoSource::sqlite(&["DROP TABLE trade_ordergoods"]).await;
    let (ok, _, stderr) = target.import(&source, &[]);
    assert!(!ok);
    assert!(stderr.contains("lacks table(s) trade_ordergoods"), "{stderr}");
    assert_eq!(target.goods_rows().await.unwrap_or_default(), 0, "nothing is imported");
}

/// A row the target refuses (here a --merge bringing a favourite mxshop already has under
/// another id): the favourites table fails as a whole, naming the row, and stays as it was; the
/// tables before it stay imported. (MySQL's upsert matches the other unique key and updates the
/// existing favourite instead.)
#[tokio::test]
async fn a_row_the_target_refuses_fails_its_table_whole_and_is_named() {
    let source = DjangoSource::sqlite(&[]).await;
    let (target, _) = imported(&source).await;
    let db = target.db().await;
    use sea_orm::ActiveValue::Set;
    let made_here = user_fav::ActiveModel {
        id: Set(100),
        user_id: Set(1),
        goods_id: Set(6),
        add_time: Set(chrono::DateTime::UNIX_EPOCH.naive_utc()),
    };
    user_fav::Entity::insert(made_here).exec(&db).await.unwrap();
    source
        .execute(&[
            "UPDATE goods_goods SET name = '改过的名字' WHERE id = 1",
            "INSERT INTO user_operation_userfav (id, add_time, goods_id, user_id) VALUES \
             (4, '2020-06-01 12:00:00.000000', 6, 1)",
        ])
        .await;
    let favourites_before = user_fav::Entity::find().all(&db).await.unwrap();
    let (ok, stdout, stderr) = target.import(&source, &["--merge"]);
    let renamed = goods::Entity::find_by_id(1).one(&db).await.unwrap().unwrap().name;
    assert_eq!(renamed, "改过的名字", "the tables before it stay imported");
    if target.database.backend == Backend::MySql {
        assert!(ok, "{stdout}{stderr}");
        return;
    }
    assert!(!ok, "{stdout}");
    assert!(stderr.contains("user_operation_userfav row 4 cannot be written"), "{stderr}");
    assert!(stderr.contains("nothing of that table was written"), "{stderr}");
    assert_eq!(user_fav::Entity::find().all(&db).await.unwrap(), favourites_before, "favourites half-imported");
    db.close().await.unwrap();
    let report = report(&stdout);
    assert_eq!(table(&report, "goods")["imported"], 50);
    assert_eq!(table(&report, "favourites")["imported"], 0);
    assert!(report["error"].as_str().unwrap().contains("user_operation_userfav row 4"));
}

/// Imports `source` into a new target, expecting success; the target and the report.
async fn imported(source: &DjangoSource) -> (Target, Value) {
    let target = Target::new().await;
    let (ok, stdout, stderr) = target.import(source, &[]);
    assert!(ok, "import: {stdout}\n{stderr}");
    let report = report(&stdout);
    (target, report)
}

fn assert_warned(report: &Value, needle: &str) {
    let warnings = warnings(report);
    assert!(warnings.iter().any(|w| w.contains(needle)), "no warning with {needle:?} in {warnings:#?}");
}

/// mxshop made user 5 after the first import; Django then made its own user 5 (a superuser) and
/// a user 6 with mxshop's user 5's username. A --merge must leave mxshop's user as it is (no
/// superuser rights, no other name) and say why those rows were not imported.
#[tokio::test]
async fn a_merge_never_overwrites_a_row_mxshop_made_since() {
    let source = DjangoSource::sqlite(&[]).await;
    let (target, _) = imported(&source).await;
    let (ok, stdout, stderr) =
        target.mxshop(&["user", "create", "mallory", "--mobile", "13900000009"], "mallory-pw-1\n");
    assert!(ok && stdout.contains("(id 5)"), "{stdout}{stderr}");
    let db = target.db().await;
    let mallory = user::Entity::find_by_id(5).one(&db).await.unwrap().unwrap();
    let root = django_hash("root-pw-2021", "RootSalt005");
    source
        .execute(&[
            &format!(
                "INSERT INTO users_userprofile (id, password, last_login, is_superuser, username, first_name, \
                 last_name, is_staff, is_active, date_joined, name, birthday, gender, mobile, email) VALUES \
                 (5, '{root}', NULL, 1, 'root', '', '', 1, 1, '2021-01-01 10:00:00.000000', NULL, NULL, 'male', \
                  '13900000005', 'root@example.com'), \
                 (6, '{root}', NULL, 1, 'mallory', '', '', 1, 1, '2021-01-02 10:00:00.000000', NULL, NULL, 'male', \
                  '13900000006', NULL), \
                 (7, '{root}', NULL, 0, 'dave', '', '', 0, 1, '2021-01-03 10:00:00.000000', NULL, NULL, 'male', \
                  '13900000009', NULL)"
            ),
            "INSERT INTO trade_orderinfo (id, order_sn, nonce_str, trade_no, pay_status, pay_type, post_script, \
             order_mount, pay_time, address, signer_name, singer_mobile, add_time, user_id) VALUES \
             (7, '20210101120000507', NULL, NULL, 'TRADE_CLOSED', 'alipay', '', 15, NULL, '上海市', 'root', \
              '13900000005', '2021-01-01 12:00:00.000000', 5)",
        ])
        .await;
    let (ok, stdout, stderr) = target.import(&source, &["--merge"]);
    assert!(ok, "merge: {stdout}\n{stderr}");
    assert_eq!(user::Entity::find_by_id(5).one(&db).await.unwrap().unwrap(), mallory, "mxshop's user changed");
    assert!(user::Entity::find_by_id(6).one(&db).await.unwrap().is_none());
    assert!(user::Entity::find_by_id(7).one(&db).await.unwrap().is_none());
    assert!(order_info::Entity::find_by_id(7).one(&db).await.unwrap().is_none(), "an order of the refused user");
    db.close().await.unwrap();
    let report = report(&stdout);
    assert_warned(
        &report,
        "users 5: not imported: conflicts with mxshop's own users 5: username \"mallory\" there, \"root\" here",
    );
    assert_warned(
        &report,
        "users 6: not imported: conflicts with mxshop's own users 5, which has the same username \"mallory\"",
    );
    assert_warned(
        &report,
        "users 7: not imported: conflicts with mxshop's own users 5, which has the same mobile \"13900000009\"",
    );
    assert_warned(&report, "orders 7: not imported: its user 5 does not exist");
    assert_eq!(table(&report, "users")["skipped"]["conflicts with an mxshop row"], 3, "{report:#}");
    assert_eq!(report["conflicts"], 3);
    assert_eq!(report["superusers"], json!([{"id": 2, "username": "bob"}]));
}

/// An order imported unpaid has no pay_time (a payment that arrives later must not look like a
/// duplicate of an earlier one).
#[tokio::test]
async fn an_unpaid_order_is_imported_without_a_pay_time() {
    let source = DjangoSource::sqlite(&[
        "UPDATE trade_orderinfo SET pay_time = '2020-05-04 12:05:00.000000' WHERE id = 4",
        "UPDATE trade_orderinfo SET pay_time = '2020-05-05 12:05:00.000000' WHERE id = 5",
    ])
    .await;
    let (target, report) = imported(&source).await;
    let db = target.db().await;
    for id in [4, 5] {
        let order = order_info::Entity::find_by_id(id).one(&db).await.unwrap().unwrap();
        assert_eq!((order.pay_status.as_str(), order.pay_time), ("paying", None), "order {id}");
    }
    assert!(order_info::Entity::find_by_id(1).one(&db).await.unwrap().unwrap().pay_time.is_some());
    db.close().await.unwrap();
    assert_warned(
        &report,
        "orders 4: pay_time 2020-05-04 04:05:00 on an unpaid order (WAIT_BUYER_PAY); imported without it",
    );
}

/// A media name that would leave the media directory is not imported, even without --media:
/// deleting the message would delete that file.
#[tokio::test]
async fn a_media_name_outside_the_media_directory_is_not_imported() {
    let source = DjangoSource::sqlite(&[
        "UPDATE user_operation_userleavingmessage SET file = '../../mxshop.db' WHERE id = 1",
        "UPDATE goods_goods SET goods_front_image = '/etc/passwd' WHERE id = 1",
        "UPDATE goods_goodsimage SET image = 'goods//x.png' WHERE id = (SELECT MIN(id) FROM goods_goodsimage)",
    ])
    .await;
    let (target, report) = imported(&source).await;
    let db = target.db().await;
    assert_eq!(user_message::Entity::find_by_id(1).one(&db).await.unwrap().unwrap().file, "");
    assert_eq!(goods::Entity::find_by_id(1).one(&db).await.unwrap().unwrap().goods_front_image, None);
    let images = goods_image::Entity::find().all(&db).await.unwrap();
    assert!(images.iter().all(|image| image.image.as_deref() != Some("goods//x.png")), "{images:?}");
    db.close().await.unwrap();
    assert_warned(&report, "messages 1: file \"../../mxshop.db\" is not a plain relative path");
    assert_warned(&report, "goods 1: goods_front_image \"/etc/passwd\" is not a plain relative path");
    assert_warned(
        &report,
        "goods_front_image \"/etc/passwd\" is not a plain relative path inside the media directory; imported without it",
    );
}

/// Django's goods_sn may be empty or repeated, mxshop's is unique: both become `django-<id>`,
/// reported in the dry run and the import alike, and a --merge gives the same values again.
#[tokio::test]
async fn empty_and_repeated_goods_sns_become_django_ids() {
    let source = DjangoSource::sqlite(&[
        "UPDATE goods_goods SET goods_sn = 'sn2011' WHERE id = 150",
        "UPDATE goods_goods SET goods_sn = '' WHERE id = 151",
    ])
    .await;
    let target = Target::new().await;
    let (ok, stdout, stderr) = target.import(&source, &["--dry-run"]);
    assert!(ok, "{stdout}{stderr}");
    assert!(stdout.contains("goods 150: goods_sn \"sn2011\" is goods 1's too; imported as django-150"), "{stdout}");
    assert!(stdout.contains("goods 151: goods_sn is empty; imported as django-151"), "{stdout}");
    let (ok, stdout, stderr) = target.import(&source, &[]);
    assert!(ok, "{stdout}{stderr}");
    let report = report(&stdout);
    assert_eq!(table(&report, "goods")["imported"], 50);
    assert_warned(&report, "goods 150: goods_sn \"sn2011\" is goods 1's too; imported as django-150");
    let db = target.db().await;
    let sn = |id| {
        let db = &db;
        async move { goods::Entity::find_by_id(id).one(db).await.unwrap().unwrap().goods_sn }
    };
    assert_eq!(sn(1).await, "sn2011");
    assert_eq!(sn(150).await, "django-150");
    assert_eq!(sn(151).await, "django-151");
    let before = target.snapshot().await;
    let (ok, stdout, stderr) = target.import(&source, &["--merge"]);
    assert!(ok, "{stdout}{stderr}");
    assert_eq!(target.snapshot().await, before);
    db.close().await.unwrap();
}

/// A username that is someone else's mobile: login looks usernames up first, so that mobile
/// would never log its owner in. The mobile is dropped. Usernames that differ only by case clash
/// on MySQL/MariaDB, whose collation ignores case: the later one is left out there.
#[tokio::test]
async fn a_mobile_that_is_another_username_is_dropped() {
    let hash = django_hash("eve-pw-2019", "EveSalt0005");
    let source = DjangoSource::sqlite(&[&format!(
        "INSERT INTO users_userprofile (id, password, last_login, is_superuser, username, first_name, last_name, \
         is_staff, is_active, date_joined, name, birthday, gender, mobile, email) VALUES \
         (7, '{hash}', NULL, 0, '13800000001', '', '', 0, 1, '2019-03-05 10:00:00.000000', NULL, NULL, 'female', \
          NULL, NULL), \
         (8, '{hash}', NULL, 0, 'Alice', '', '', 0, 1, '2019-03-06 10:00:00.000000', NULL, NULL, 'female', \
          NULL, NULL)"
    )])
    .await;
    let (target, report) = imported(&source).await;
    let db = target.db().await;
    assert_eq!(user::Entity::find_by_id(1).one(&db).await.unwrap().unwrap().mobile, None);
    assert_eq!(user::Entity::find_by_id(2).one(&db).await.unwrap().unwrap().mobile.as_deref(), Some("13800000002"));
    let upper = user::Entity::find_by_id(8).one(&db).await.unwrap();
    db.close().await.unwrap();
    assert_warned(&report, "users 1: alice's mobile 13800000001 is another user's username");
    if target.database.backend == Backend::MySql {
        assert!(upper.is_none());
        assert_warned(&report, "users 8: not imported: username \"Alice\" equals user 1's but for case");
    } else {
        assert!(upper.is_some());
    }
}

/// Order lines without a quantity are left out; superusers are listed, and need is_staff; the
/// report is readable by its owner only.
#[tokio::test]
async fn order_lines_without_quantity_superusers_and_the_report_file() {
    let hash = django_hash("frank-pw-2019", "FrankSalt06");
    let source = DjangoSource::sqlite(&[
        "UPDATE trade_ordergoods SET goods_num = 0 WHERE id = 7",
        &format!(
            "INSERT INTO users_userprofile (id, password, last_login, is_superuser, username, first_name, \
             last_name, is_staff, is_active, date_joined, name, birthday, gender, mobile, email) VALUES \
             (7, '{hash}', NULL, 1, 'frank', '', '', 0, 1, '2019-03-05 10:00:00.000000', NULL, NULL, 'male', \
              NULL, NULL)"
        ),
    ])
    .await;
    let target = Target::new().await;
    let (ok, stdout, stderr) = target.import(&source, &[]);
    assert!(ok, "{stdout}{stderr}");
    assert!(stdout.contains("superusers: bob (id 2)"), "{stdout}");
    let path = stdout.lines().find_map(|line| line.strip_prefix("report written to ")).unwrap();
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600, "{path}");
    }
    let report = report(&stdout);
    assert_eq!(table(&report, "order lines")["skipped"]["no quantity"], 1, "{report:#}");
    assert_warned(&report, "order lines 7: not imported: goods_num is 0 (order 6)");
    assert_warned(&report, "users 7: frank is a superuser but not staff; imported as an ordinary user");
    assert_eq!(report["superusers"], json!([{"id": 2, "username": "bob"}]));
    let db = target.db().await;
    assert!(!user::Entity::find_by_id(7).one(&db).await.unwrap().unwrap().is_superuser);
    db.close().await.unwrap();
    // A second report (a --merge) replaces the first, still private.
    let (ok, stdout, stderr) = target.import(&source, &["--merge"]);
    assert!(ok, "{stdout}{stderr}");
    assert_eq!(report_path_mode(&stdout) & 0o777, 0o600);
}

fn report_path_mode(stdout: &str) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    let path = stdout.lines().find_map(|line| line.strip_prefix("report written to ")).unwrap();
    std::fs::metadata(path).unwrap().permissions().mode()
}

/// Goods with long descriptions: 300 of 60 kB make one batch by rows larger than MariaDB's
/// max_allowed_packet (16 MiB), so batches are cut by size too; a description of a megabyte is
/// more than MySQL's TEXT holds and is cut there (reported), whole elsewhere.
#[tokio::test]
async fn long_goods_descriptions_go_in_batches_a_server_accepts() {
    let source = DjangoSource::sqlite(&[
        "UPDATE goods_goods SET goods_desc = replace(hex(zeroblob(500000)), '0', 'x') || id WHERE id = 1",
        "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 300) \
         INSERT INTO goods_goods (id, goods_sn, name, click_num, sold_num, fav_num, goods_num, market_price, \
         shop_price, goods_brief, goods_desc, ship_free, goods_front_image, is_new, is_hot, add_time, category_id) \
         SELECT 10000 + i, 'bulk-' || i, 'bulk ' || i, 0, 0, 0, 1, 10, 10, 'b', \
         replace(hex(zeroblob(30000)), '0', 'y'), 0, NULL, 0, 0, '2020-01-01 00:00:00.000000', \
         (SELECT category_id FROM goods_goods WHERE id = 1) FROM n",
    ])
    .await;
    let (target, report) = imported(&source).await;
    assert_eq!(table(&report, "goods")["imported"], 350);
    let db = target.db().await;
    let one = goods::Entity::find_by_id(1).one(&db).await.unwrap().unwrap();
    let bulk = goods::Entity::find_by_id(10_300).one(&db).await.unwrap().unwrap();
    assert_eq!(bulk.goods_desc.len(), 60_000);
    db.close().await.unwrap();
    if target.database.backend == Backend::MySql {
        assert_eq!(one.goods_desc.len(), 65_535);
        assert_warned(&report, "goods 1: goods_desc is 1000001 bytes, more than the target's text column holds");
    } else {
        assert_eq!(one.goods_desc.len(), 1_000_001);
    }
}

/// Sequences move forward only: an id handed out by mxshop and deleted since is not handed out
/// again after a --merge.
#[tokio::test]
async fn a_merge_never_moves_an_id_sequence_back() {
    let source = DjangoSource::sqlite(&[]).await;
    let (target, _) = imported(&source).await;
    let (ok, stdout, _) = target.mxshop(&["user", "create", "temp"], "temp-pw-12345\n");
    assert!(ok && stdout.contains("(id 5)"), "{stdout}");
    let db = target.db().await;
    user::Entity::delete_by_id(5).exec(&db).await.unwrap();
    db.close().await.unwrap();
    let (ok, stdout, stderr) = target.import(&source, &["--merge"]);
    assert!(ok, "{stdout}{stderr}");
    let (ok, stdout, stderr) = target.mxshop(&["user", "create", "later"], "later-pw-12345\n");
    assert!(ok && stdout.contains("(id 6)"), "{stdout}{stderr}");
}
