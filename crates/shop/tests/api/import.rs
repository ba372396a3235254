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

/// The MariaDB server Django sources are made on: the run's, or the local one CI always starts.
fn mariadb_server() -> String {
    std::env::var("MXSHOP_TEST_MYSQL_URL")
        .ok()
        .filter(|url| !url.is_empty())
        .unwrap_or_else(|| "mysql://root@127.0.0.1:3306/mysql".to_owned())
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
        let server = mariadb_server();
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
        let server = std::env::var("MXSHOP_TEST_POSTGRES_URL")
            .ok()
            .filter(|url| !url.is_empty())
            .unwrap_or_else(|| "postgres://postgres@127.0.0.1:5432/postgres".to_owned());
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

    // New rows get ids past the imported ones (sequences advanced).
    let (ok, stdout, stderr) = target.mxshop(&["user", "create", "newcomer"], "newcomer-pw-1\n");
    assert!(ok, "{stderr}");
    assert!(stdout.contains("(id 5)"), "{stdout}");

    let Target { database, dir } = target;
    let shop = Start::new().run_on(database, dir).await;
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
    // A later --merge never brings the old (unusable) password back.
    let (ok, _, stderr) = binary::run(
        &["import", "django", "--from", &source.url, "--merge"],
        &shop.database.url,
        &shop.data_path(""),
        "",
    );
    assert!(ok, "{stderr}");
    assert!(login(&client, &shop, "weibo_7788", "a-new-password-1").await.is_some());

    // An absolute image URL of the dump is kept, and served as it is.
    let goods: Value = client.get(shop.url("/goods/125/")).send().await.unwrap().json().await.unwrap();
    let front = goods["goods_front_image"].as_str().unwrap();
    assert!(front.starts_with("http://vueshopstatic.mtianyan.cn/"), "{front}");

    let image = client.get(shop.url("/media/goods/images/liuyong_wzq8kXx.png")).send().await.unwrap();
    assert_eq!(image.status(), 200);
    assert_eq!(image.bytes().await.unwrap().as_ref(), b"\x89PNG liuyong");
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

/// Django's `goods_sn` is not unique, mxshop's is: the goods table fails as a whole, naming the
/// row, and the tables before it stay imported.
#[tokio::test]
async fn a_row_the_target_refuses_fails_its_table_whole_and_is_named() {
    let target = Target::new().await;
    let source = DjangoSource::sqlite(&["UPDATE goods_goods SET goods_sn = 'sn2011' WHERE id = 150"]).await;
    let (ok, stdout, stderr) = target.import(&source, &[]);
    assert!(!ok, "{stdout}");
    assert!(stderr.contains("goods_goods row 150 cannot be written"), "{stderr}");
    assert!(stderr.contains("nothing of that table was written"), "{stderr}");
    assert_eq!(target.goods_rows().await, Some(0), "no goods half-imported");
    let report = report(&stdout);
    assert_eq!(table(&report, "categories")["imported"], 7);
    assert_eq!(table(&report, "goods")["imported"], 0);
    assert!(report["error"].as_str().unwrap().contains("goods_goods row 150"));
}
