//! The shop on the open internet, tried as an attacker would: every test drives the spawned
//! binary over TCP (see `binary`). Loopback has many addresses: a client bound to 127.0.0.2 is
//! another client than one bound to 127.0.0.1.

use std::os::unix::fs::PermissionsExt;
use std::time::{Duration, Instant};

use reqwest::StatusCode;
use sea_orm::{ConnectionTrait, Statement};
use serde_json::{Value, json};

use crate::binary::{Start, header, raw_get};

const ALICE_MOBILE: &str = "13800000001";

/// The request is built at once, so the future borrows nothing.
fn post_json(client: &reqwest::Client, url: String, body: Value) -> impl Future<Output = reqwest::Response> + use<> {
    let request = client.post(url).json(&body);
    async move { request.send().await.unwrap() }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn one_client_spending_its_budgets_leaves_other_clients_alone() {
    let shop = Start::new().run().await;
    shop.cli(&["user", "create", "alice", "--mobile", ALICE_MOBILE], "pw-alice-1\n");
    let a = shop.client_from("127.0.0.1");
    let b = shop.client_from("127.0.0.2");
    let login = |client: &reqwest::Client, username: &str, password: &str| {
        post_json(client, shop.url("/login/"), json!({"username": username, "password": password}))
    };

    // A spends its 30 login attempts on names that do not exist (no account budget is touched).
    for i in 0..30 {
        assert_eq!(login(&a, &format!("nobody{i}"), "wrong-pw").await.status(), 400, "attempt {i}");
    }
    assert_eq!(login(&a, "alice", "pw-alice-1").await.status(), 429, "A is out of login attempts");
    // A spends its SMS-code and registration budgets.
    for i in 0..20 {
        let sent = post_json(&a, shop.url("/code/"), json!({"mobile": format!("1390000{i:04}")})).await;
        assert_eq!(sent.status(), 201, "code {i}");
    }
    let more = post_json(&a, shop.url("/code/"), json!({"mobile": "13911112222"})).await;
    assert_eq!(more.status(), 429);
    let register = |client: &reqwest::Client| {
        post_json(
            client,
            shop.url("/users/"),
            json!({"username": "13922223333", "code": "0000", "password": "pw123456"}),
        )
    };
    for i in 0..20 {
        assert_eq!(register(&a).await.status(), 400, "registration {i}");
    }
    assert_eq!(register(&a).await.status(), 429);

    // B is another client: its budgets are whole, and alice logs in from there.
    let ok = login(&b, "alice", "pw-alice-1").await;
    assert_eq!(ok.status(), 200, "{}", ok.text().await.unwrap());
    assert_eq!(login(&b, ALICE_MOBILE, "pw-alice-1").await.status(), 200, "by mobile too");
    assert_eq!(post_json(&b, shop.url("/code/"), json!({"mobile": "13933334444"})).await.status(), 201);
    assert_eq!(register(&b).await.status(), 400, "checked, not throttled");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn parallel_guesses_cannot_exceed_the_account_budget() {
    let shop = Start::new().run().await;
    shop.cli(&["user", "create", "alice", "--mobile", ALICE_MOBILE], "pw-alice-1\n");
    // Thirty guesses at once from thirty addresses, half by username and half by mobile: one
    // account, one budget of ten.
    let guesses = (0..30).map(|i| {
        let client = shop.client_from(&format!("127.0.1.{}", i + 1));
        let url = shop.url("/login/");
        let name = if i % 2 == 0 { "alice" } else { ALICE_MOBILE };
        tokio::spawn(async move {
            post_json(&client, url, json!({"username": name, "password": format!("guess-{i}")})).await.status()
        })
    });
    let statuses: Vec<StatusCode> = futures_join(guesses).await;
    let checked = statuses.iter().filter(|s| **s == 400).count();
    let throttled = statuses.iter().filter(|s| **s == 429).count();
    assert_eq!((checked, throttled), (10, 20), "{statuses:?}");
    // The budget is the account's: the right password from a fresh address waits too.
    let fresh = shop.client_from("127.0.2.1");
    let late = post_json(&fresh, shop.url("/login/"), json!({"username": "alice", "password": "pw-alice-1"})).await;
    assert_eq!(late.status(), 429);
}

async fn futures_join<T: Send + 'static>(tasks: impl Iterator<Item = tokio::task::JoinHandle<T>>) -> Vec<T> {
    let handles: Vec<_> = tasks.collect();
    let mut out = Vec::with_capacity(handles.len());
    for handle in handles {
        out.push(handle.await.unwrap());
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_trusted_proxy_names_the_client_and_nobody_else_can() {
    let shop = Start::new()
        .env("MXSHOP_TRUSTED_PROXIES", "[\"127.0.0.1\"]")
        // A proxy in front and the demo gateway: allowed only on purpose (see below).
        .env("MXSHOP_ALIPAY__BUILTIN_ON_PUBLIC_ADDRESS", "true")
        .run()
        .await;
    let code = |client: reqwest::Client, forwarded: &'static str, mobile: String| {
        let url = shop.url("/code/");
        async move {
            client
                .post(url)
                .header("x-forwarded-for", forwarded)
                .json(&json!({"mobile": mobile}))
                .send()
                .await
                .unwrap()
                .status()
        }
    };
    let proxy = shop.client_from("127.0.0.1");
    let untrusted = shop.client_from("127.0.0.3");
    // Behind the proxy each forwarded client has its own budget; hops the client itself put in
    // front of the real one are ignored.
    for i in 0..20 {
        assert_eq!(code(proxy.clone(), "6.6.6.6, 203.0.113.5", format!("1590000{i:04}")).await, 201);
    }
    assert_eq!(code(proxy.clone(), "203.0.113.5", "15900009999".into()).await, 429);
    assert_eq!(code(proxy.clone(), "203.0.113.6", "15900009998".into()).await, 201);
    // A peer that is not a trusted proxy cannot escape its budget by inventing addresses.
    for i in 0..20 {
        assert_eq!(code(untrusted.clone(), "198.51.100.1", format!("1580000{i:04}")).await, 201);
    }
    assert_eq!(code(untrusted.clone(), "198.51.100.2", "15800009999".into()).await, 429);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn uploads_never_run_on_the_shop_origin() {
    // By default, types a browser would run are refused.
    let strict = Start::new().run().await;
    let token = strict.user("alice", ALICE_MOBILE, "pw-alice-1").await;
    for name in ["x.html", "x.svg", "x.js", "x.xml", "x.xhtml", "x.htm"] {
        let refused = strict.upload(&token, name, b"<script>alert(1)</script>", &[("subject", "s")]).await;
        assert_eq!(refused.status(), 400, "{name}");
        let json: Value = refused.json().await.unwrap();
        assert!(json["file"][0].as_str().unwrap().starts_with("不支持的文件类型"), "{name}: {json}");
    }
    drop(strict);

    // An operator who allows them still never gets them rendered, whatever the path's spelling.
    let shop = Start::new().env("MXSHOP_UPLOAD_EXTENSIONS", "[\"html\", \"svg\", \"txt\"]").run().await;
    let token = shop.user("alice", ALICE_MOBILE, "pw-alice-1").await;
    for name in ["x.html", "x.svg"] {
        let created = shop.upload(&token, name, b"<script>alert(1)</script>", &[("subject", "s")]).await;
        assert_eq!(created.status(), 201);
        let url = created.json::<Value>().await.unwrap()["file"].as_str().unwrap().to_owned();
        let file = url.rsplit('/').next().unwrap().to_owned();
        for path in [
            format!("/media/message/images/{file}"),
            format!("/media//message/images/{file}"),
            format!("/media/%6Dessage/images/{file}"),
            format!("/media/./message/images/{file}"),
            format!("/media/message//images/{file}"),
            format!("/media/message/./images/{file}"),
            format!("/media/message%2Fimages/{file}"),
            format!("/media/message/images/%{:02X}{}", file.as_bytes()[0], &file[1..]),
        ] {
            let (status, headers, body) = raw_get(shop.addr, &path);
            assert!(status.contains(" 200 "), "{path}: {status}");
            assert_eq!(body, b"<script>alert(1)</script>", "{path}");
            assert_eq!(header(&headers, "content-disposition"), Some("attachment"), "{path}");
            assert_eq!(header(&headers, "x-content-type-options"), Some("nosniff"), "{path}");
            assert_eq!(header(&headers, "content-security-policy"), Some("sandbox"), "{path}");
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn uploads_and_messages_have_quotas() {
    let shop = Start::new().env("MXSHOP_UPLOAD_DAILY_COUNT", "3").env("MXSHOP_UPLOAD_DAILY_BYTES", "2500").run().await;
    let token = shop.user("alice", ALICE_MOBILE, "pw-alice-1").await;
    let client = shop.client_from("127.0.0.1");
    let upload = |size: usize, message: String| {
        shop.upload(&token, "note.txt", &vec![b'x'; size], &[("subject", "s"), ("message", &message)])
    };
    let too_long = upload(10, "长".repeat(5001)).await;
    assert_eq!(too_long.status(), 400);
    assert!(too_long.json::<Value>().await.unwrap()["message"].is_array());
    assert_eq!(upload(1000, "ok".into()).await.status(), 201);
    assert_eq!(upload(1000, "ok".into()).await.status(), 201);
    let over_bytes = upload(1000, "ok".into()).await;
    assert_eq!(over_bytes.status(), 400, "2,500 bytes a day");
    assert_eq!(over_bytes.json::<Value>().await.unwrap(), json!({"file": ["今日上传的文件已超过总大小上限。"]}));
    assert_eq!(upload(10, "ok".into()).await.status(), 201, "the third file fits");
    assert_eq!(upload(10, "ok".into()).await.status(), 429, "three files a day");
    let listed: Value =
        client.get(shop.url("/messages/")).bearer_auth(&token).send().await.unwrap().json().await.unwrap();
    assert_eq!(listed.as_array().unwrap().len(), 3, "nothing half-written");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn junk_urls_do_not_grow_memory() {
    let shop = Start::new().run().await;
    let client = shop.client_from("127.0.0.1");
    let paths = ["/goods/?", "/goods/?page_size=100&", "/indexgoods/?"];
    let base = shop.base.clone();
    let run = |count: usize, tag: &'static str| {
        let (client, base) = (client.clone(), base.clone());
        let workers = (0..16).map(move |worker| {
            let (client, base) = (client.clone(), base.clone());
            tokio::spawn(async move {
                for n in (worker..count).step_by(16) {
                    let path = paths[n % paths.len()];
                    let url = format!("{base}{path}{tag}{n}=x&junk{n}={n}");
                    let response = client.get(url).send().await.unwrap();
                    assert_eq!(response.status(), 200);
                    response.bytes().await.unwrap();
                }
            })
        });
        futures_join(workers)
    };
    // Warm up: every page built once, allocator pools filled.
    run(300, "warm").await;
    let before = shop.memory_kib("VmHWM");
    let started = Instant::now();
    run(30_000, "junk").await;
    let after = shop.memory_kib("VmHWM");
    let grown_mib = (after.saturating_sub(before)) as f64 / 1024.0;
    println!(
        "junk URLs: 30,000 requests in {:.1}s; peak RSS {:.1} MiB -> {:.1} MiB (+{grown_mib:.1} MiB)",
        started.elapsed().as_secs_f64(),
        before as f64 / 1024.0,
        after as f64 / 1024.0
    );
    assert!(grown_mib < 50.0, "peak RSS grew by {grown_mib:.1} MiB");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn slow_clients_are_dropped_and_idle_ones_do_not_block_others() {
    let shop = Start::new().env("MXSHOP_HEADER_READ_TIMEOUT_SECS", "2").run().await;
    // Slowloris: a header byte every 100 ms, never finishing: each read comes well within the
    // header time, so only a limit on the whole header ends it.
    let addr = shop.addr;
    let slow = std::thread::spawn(move || {
        use std::io::Write;
        let mut stream = std::net::TcpStream::connect(addr).unwrap();
        let started = Instant::now();
        stream.write_all(b"GET /health/ HTTP/1.1\r\nHost: x\r\n").unwrap();
        for byte in b"X-Slow: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa".iter().cycle().take(200) {
            std::thread::sleep(Duration::from_millis(100));
            if stream.write_all(&[*byte]).and_then(|()| stream.flush()).is_err() {
                return started.elapsed();
            }
        }
        panic!("a client sending a header byte every 100 ms was not disconnected within 20 s");
    });
    // Two thousand connections that never send a byte, from eight clients.
    let mut idle = Vec::new();
    for n in 0..2000 {
        idle.push(connect_from(&format!("127.0.3.{}", n % 8 + 1), shop.addr).await);
    }
    let health = shop.client_from("127.0.0.2").get(shop.url("/health/")).send().await.unwrap();
    assert_eq!(health.status(), 200, "/health/ answers beside 2,000 idle connections");
    let dropped_after = tokio::task::spawn_blocking(move || slow.join().unwrap()).await.unwrap();
    // Dropped by the header timeout (2 s), not by anything slower; the write that notices comes
    // a little later.
    assert!(dropped_after < Duration::from_secs(6), "dropped after {dropped_after:?}");
    drop(idle);
}

async fn connect_from(local: &str, server: std::net::SocketAddr) -> tokio::net::TcpStream {
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.bind(std::net::SocketAddr::new(local.parse().unwrap(), 0)).unwrap();
    socket.connect(server).await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_client_cannot_hold_every_connection_or_stall_a_body() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let shop = Start::new()
        .env("MXSHOP_MAX_CONNECTIONS_PER_CLIENT", "20")
        .env("MXSHOP_BODY_READ_TIMEOUT_SECS", "2")
        .run()
        .await;
    let mut held = Vec::new();
    for _ in 0..20 {
        held.push(connect_from("127.0.5.1", shop.addr).await);
    }
    // Make sure the server has accepted (and counted) them all.
    let (status, _, _) = crate::binary::raw_get(shop.addr, "/health/");
    assert!(status.contains(" 200 "), "{status}");
    let mut extra = connect_from("127.0.5.1", shop.addr).await;
    let mut buf = [0u8; 64];
    let closed = tokio::time::timeout(Duration::from_secs(5), extra.read(&mut buf)).await;
    assert!(matches!(closed, Ok(Ok(0)) | Ok(Err(_))), "the 21st connection of one client is closed: {closed:?}");
    // Another client is served meanwhile.
    let other = shop.client_from("127.0.5.2").get(shop.url("/health/")).send().await.unwrap();
    assert_eq!(other.status(), 200);
    drop(held);

    // A body that never finishes is answered 408 once the body time is up, and frees the slot.
    let mut stalled = connect_from("127.0.5.3", shop.addr).await;
    stalled
        .write_all(b"POST /login/ HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{\"user")
        .await
        .unwrap();
    let mut answer = Vec::new();
    let read = tokio::time::timeout(Duration::from_secs(15), stalled.read_to_end(&mut answer)).await;
    assert!(read.is_ok(), "the server answers a stalled body instead of waiting for ever");
    let answer = String::from_utf8_lossy(&answer);
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(answer.contains("请求超时"), "{answer}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn junk_notifications_do_not_fill_the_database() {
    let shop = Start::new().run().await;
    let client = shop.client_from("127.0.0.1");
    let db = shop.db().await;
    let stored = || async {
        let backend = db.get_database_backend();
        let sql = match backend {
            sea_orm::DbBackend::MySql => {
                "SELECT CAST(COALESCE(SUM(LENGTH(fields)), 0) AS SIGNED) AS n FROM payment_event"
            }
            _ => "SELECT CAST(COALESCE(SUM(LENGTH(fields)), 0) AS BIGINT) AS n FROM payment_event",
        };
        let row = db.query_one_raw(Statement::from_string(backend, sql)).await.unwrap().unwrap();
        row.try_get::<i64>("", "n").unwrap()
    };
    let before = stored().await;
    let junk = format!("out_trade_no=x&sign=bad&junk={}", "a".repeat(1024 * 1024));
    for _ in 0..100 {
        let response = client
            .post(shop.url("/alipay/return/"))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(junk.clone())
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 400);
        assert_eq!(response.text().await.unwrap(), "fail");
    }
    let grown = stored().await - before;
    println!("100 junk notifications of 1 MiB stored {grown} bytes");
    assert!(grown < 1024 * 1024, "stored {grown} bytes");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn search_is_bounded() {
    let shop = Start::new().run().await;
    let client = shop.client_from("127.0.0.1");
    let search = |terms: String| client.get(shop.url("/goods/")).query(&[("search", terms)]).send();
    let ten = (0..10).map(|i| format!("w{i}")).collect::<Vec<_>>().join(" ");
    assert_eq!(search(ten).await.unwrap().status(), 200);
    let eleven = (0..11).map(|i| format!("w{i}")).collect::<Vec<_>>().join(" ");
    let refused = search(eleven).await.unwrap();
    assert_eq!(refused.status(), 400);
    assert_eq!(refused.json::<Value>().await.unwrap(), json!({"search": ["搜索词最多10个。"]}));
    let long = search("字".repeat(101)).await.unwrap();
    assert_eq!(long.status(), 400);
    assert_eq!(long.json::<Value>().await.unwrap(), json!({"search": ["每个搜索词最多100个字符。"]}));
    // What used to break SQLite's expression depth is a clear 400 now.
    let many = search((0..400).map(|i| format!("t{i}")).collect::<Vec<_>>().join(" ")).await.unwrap();
    assert_eq!(many.status(), 400);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_password_change_revokes_existing_tokens() {
    // With the user cache off, a change made elsewhere is seen at once (with it on, within
    // `auth_cache_ms`: `speed::a_password_changed_elsewhere_revokes_tokens_here_within_auth_cache_ms`).
    let shop = Start::new().env("MXSHOP_AUTH_CACHE_MS", "0").run().await;
    let token = shop.user("alice", ALICE_MOBILE, "pw-alice-1").await;
    let client = shop.client_from("127.0.0.1");
    let favs = || client.get(shop.url("/userfavs/")).bearer_auth(&token).send();
    assert_eq!(favs().await.unwrap().status(), 200);
    shop.cli(&["user", "set-password", "alice"], "pw-alice-2\n");
    let revoked = favs().await.unwrap();
    assert_eq!(revoked.status(), 401);
    assert_eq!(revoked.json::<Value>().await.unwrap(), json!({"detail": "登录已失效（密码已修改），请重新登录。"}));
    let fresh = post_json(&client, shop.url("/login/"), json!({"username": "alice", "password": "pw-alice-2"})).await;
    let fresh = fresh.json::<Value>().await.unwrap()["token"].as_str().unwrap().to_owned();
    assert_eq!(client.get(shop.url("/userfavs/")).bearer_auth(&fresh).send().await.unwrap().status(), 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nobody_takes_another_persons_mobile() {
    let shop = Start::new().run().await;
    let token = shop.user("alice", ALICE_MOBILE, "pw-alice-1").await;
    let client = shop.client_from("127.0.0.1");
    let victim = "13912345678";
    let squat = client
        .patch(shop.url("/users/1/"))
        .bearer_auth(&token)
        .json(&json!({"username": victim}))
        .send()
        .await
        .unwrap();
    assert_eq!(squat.status(), 400);
    assert_eq!(squat.json::<Value>().await.unwrap(), json!({"username": ["用户名不能是他人的手机号码。"]}));
    // Her own mobile is fine.
    let own =
        client.patch(shop.url("/users/1/")).bearer_auth(&token).json(&json!({"username": ALICE_MOBILE})).send().await;
    assert_eq!(own.unwrap().status(), 200);
    // The owner of the mobile can still register with it.
    let other = shop.client_from("127.0.0.2");
    assert_eq!(post_json(&other, shop.url("/code/"), json!({"mobile": victim})).await.status(), 201);
    let code = shop.sms_code(victim).expect("the code is in the log");
    let registered =
        post_json(&other, shop.url("/users/"), json!({"username": victim, "code": code, "password": "pw123456"})).await;
    assert_eq!(registered.status(), 201, "{}", registered.text().await.unwrap());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sms_codes_are_capped_per_mobile_per_day() {
    let shop = Start::new().run().await;
    let client = shop.client_from("127.0.0.1");
    let mobile = "13955556666";
    // Ten codes went to this mobile earlier today (60 s apart, as the spacing rule allows).
    let db = shop.db().await;
    for hours_ago in 1..=10 {
        let at = shop::clock::now_utc() - chrono::TimeDelta::minutes(hours_ago * 5);
        let hit = shop::db::entities::throttle_hit::ActiveModel {
            scope: sea_orm::ActiveValue::Set("sms-code-mobile".into()),
            subject: sea_orm::ActiveValue::Set(mobile.into()),
            hit_at: sea_orm::ActiveValue::Set(at),
            ..Default::default()
        };
        sea_orm::EntityTrait::insert(hit).exec(&db).await.unwrap();
    }
    let capped = post_json(&client, shop.url("/code/"), json!({"mobile": mobile})).await;
    assert_eq!(capped.status(), 429);
    assert!(shop.sms_code(mobile).is_none(), "nothing sent");
    assert_eq!(post_json(&client, shop.url("/code/"), json!({"mobile": "13955557777"})).await.status(), 201);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn parallel_code_requests_send_one_code() {
    let shop = Start::new().run().await;
    let mobile = "13966667777";
    let requests = (0..10).map(|i| {
        let request =
            post_json(&shop.client_from(&format!("127.0.6.{}", i + 1)), shop.url("/code/"), json!({"mobile": mobile}));
        tokio::spawn(async move {
            let response = request.await;
            (response.status(), response.json::<Value>().await.unwrap())
        })
    });
    let answers = futures_join(requests).await;
    let sent = answers.iter().filter(|(status, _)| *status == 201).count();
    assert_eq!(sent, 1, "{answers:?}");
    for (status, body) in answers.iter().filter(|(status, _)| *status != 201) {
        assert_eq!((*status, body), (StatusCode::BAD_REQUEST, &json!({"mobile": ["距离上一次发送未超过60s"]})));
    }
}

#[tokio::test]
async fn data_files_are_private() {
    let shop = Start::new().out_of_the_box().run().await;
    let mode = |relative: &str| {
        std::fs::metadata(shop.data_path(relative)).unwrap_or_else(|e| panic!("{relative}: {e}")).permissions().mode()
            & 0o777
    };
    assert_eq!(mode(""), 0o700, "the data directory");
    for file in [
        "mxshop.db",
        "secret.key",
        "alipay/app_private_key.pem",
        "alipay/sandbox_alipay_private_key.pem",
        "alipay/sandbox.sqlite",
    ] {
        assert_eq!(mode(file), 0o600, "{file}");
    }
    assert_eq!(mode("alipay"), 0o700);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unpaid_orders_are_capped_and_pages_cannot_be_framed() {
    let shop = Start::new()
        .env("MXSHOP_MAX_UNPAID_ORDERS_PER_USER", "3")
        .env("MXSHOP_MAX_UNPAID_UNITS_PER_USER", "5")
        .run()
        .await;
    let token = shop.user("alice", ALICE_MOBILE, "pw-alice-1").await;
    let client = shop.client_from("127.0.0.1");
    let goods: Value = client.get(shop.url("/goods/?page_size=1")).send().await.unwrap().json().await.unwrap();
    let goods_id = goods["results"][0]["id"].as_i64().unwrap();
    let stock = || async {
        let detail: Value =
            client.get(shop.url(&format!("/goods/{goods_id}/"))).send().await.unwrap().json().await.unwrap();
        detail["goods_num"].as_i64().unwrap()
    };
    let (client, shop, token) = (&client, &shop, &token);
    let order_of = |nums: i64| async move {
        let cart = client
            .post(shop.url("/shopcarts/"))
            .bearer_auth(token)
            .json(&json!({"goods": goods_id, "nums": nums}))
            .send()
            .await
            .unwrap();
        assert_eq!(cart.status(), 201);
        client
            .post(shop.url("/orders/"))
            .bearer_auth(token)
            .json(&json!({"post_script": "x", "singer_mobile": ALICE_MOBILE}))
            .send()
            .await
            .unwrap()
    };
    let order = move || order_of(1);
    // One order of more units than anyone may hold unpaid.
    let greedy = order_of(6).await;
    assert_eq!(greedy.status(), 400);
    assert_eq!(
        greedy.json::<Value>().await.unwrap(),
        json!({"non_field_errors": ["未支付的订单最多保留5件商品（已有0件，本单6件）。请先支付或取消其中的订单。"]})
    );
    client.delete(shop.url(&format!("/shopcarts/{goods_id}/"))).bearer_auth(token).send().await.unwrap();
    let mut alipay_url = String::new();
    for _ in 0..3 {
        let placed = order().await;
        assert_eq!(placed.status(), 201);
        alipay_url = placed.json::<Value>().await.unwrap()["alipay_url"].as_str().unwrap().to_owned();
    }
    let stock_before = stock().await;
    let refused = order().await;
    assert_eq!(refused.status(), 400);
    assert_eq!(
        refused.json::<Value>().await.unwrap(),
        json!({"non_field_errors": ["您有3个未支付的订单，已达上限。请先支付或取消其中的订单。"]})
    );
    assert_eq!(stock().await, stock_before, "nothing reserved");

    // The shop's HTML pages and the sandbox's cannot be framed and run no script.
    let cashier = alipay_url.strip_prefix(&shop.base).unwrap().to_owned();
    for path in ["/", "/docs/", "/sandbox/alipay/inspect", cashier.as_str()] {
        let (status, headers, _) = raw_get(shop.addr, path);
        assert!(status.contains(" 200 "), "{path}: {status}");
        assert_eq!(header(&headers, "x-frame-options"), Some("DENY"), "{path}");
        assert!(header(&headers, "content-security-policy").is_some_and(|csp| csp.contains("frame-ancestors 'none'")));
        assert!(header(&headers, "referrer-policy").is_some(), "{path}");
    }
    // Another site's script cannot read the sandbox's pages (they list every trade).
    for path in ["/sandbox/alipay/inspect", "/sandbox/alipay/inspect.json"] {
        let response = client.get(shop.url(path)).header("origin", "https://evil.example").send().await.unwrap();
        assert_eq!(response.status(), 200);
        assert!(response.headers().get("access-control-allow-origin").is_none(), "{path}");
    }
    // The API keeps its CORS.
    let api = client.get(shop.url("/goods/")).header("origin", "https://evil.example").send().await.unwrap();
    assert_eq!(api.headers().get("access-control-allow-origin").unwrap(), "*");
}

#[tokio::test]
async fn the_builtin_sandbox_is_refused_on_a_public_address() {
    let refused = Start::new().listen("0.0.0.0:0").refused().await;
    assert!(refused.contains("anyone mark any order paid"), "{refused}");
    assert!(refused.contains("alipay.builtin_on_public_address = true"), "{refused}");
    // Loopback, but behind a reverse proxy: the sandbox would be public all the same.
    let proxied = Start::new().env("MXSHOP_TRUSTED_PROXIES", "[\"127.0.0.1\"]").refused().await;
    assert!(proxied.contains("trusted_proxies is set"), "{proxied}");
    let public_url = Start::new().env("MXSHOP_ALIPAY__PUBLIC_URL", "https://shop.example").refused().await;
    assert!(public_url.contains("its public URL is https://shop.example"), "{public_url}");
    // Started on loopback, a request relayed by a proxy someone put in front is refused.
    let local = Start::new().run().await;
    let relayed = local
        .client_from("127.0.0.1")
        .get(local.url("/sandbox/alipay/inspect"))
        .header("x-forwarded-for", "203.0.113.9")
        .send()
        .await
        .unwrap();
    assert_eq!(relayed.status(), 403);
    let direct = local.client_from("127.0.0.1").get(local.url("/sandbox/alipay/inspect")).send().await.unwrap();
    assert_eq!(direct.status(), 200);
    drop(local);
    // Opted in, on purpose: it starts.
    let shop = Start::new().listen("0.0.0.0:0").env("MXSHOP_ALIPAY__BUILTIN_ON_PUBLIC_ADDRESS", "true").run().await;
    let port = shop.addr.port();
    let health = shop.client_from("127.0.0.1").get(format!("http://127.0.0.1:{port}/health/")).send().await.unwrap();
    assert_eq!(health.status(), 200);
}
