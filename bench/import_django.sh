#!/usr/bin/env bash
# Import speed: a Django MxShop database on MariaDB made from the catalogue fixture plus N goods
# (default 100,000, each with a gallery image), imported by the release `mxshop import django`
# into SQLite and into PostgreSQL. Prints the import's per-table lines (rows/s per table).
#
# Usage: bash bench/import_django.sh [N]   (MXSHOP_BIN=… to time another build)
# Needs: the mariadb (or mysql) and psql clients, MariaDB at 127.0.0.1:3306 (root, no password),
# PostgreSQL at postgres://postgres@127.0.0.1:5432. Databases it makes are dropped at the end.
set -euo pipefail
cd "$(dirname "$0")/.."

GOODS=${1:-100000}
MYSQL=$(command -v mariadb || command -v mysql)
PG_ADMIN=postgres://postgres@127.0.0.1:5432/postgres
SOURCE_DB=mxshop_bench_django
TARGET_PG=mxshop_bench_import
WORK=$(mktemp -d)
cleanup() {
  "$MYSQL" -h127.0.0.1 -uroot -e "DROP DATABASE IF EXISTS $SOURCE_DB" || true
  psql "$PG_ADMIN" -qc "DROP DATABASE IF EXISTS $TARGET_PG WITH (FORCE)" || true
  rm -rf "$WORK"
}
trap cleanup EXIT

BIN=${MXSHOP_BIN:-target/release/mxshop}
[ -x "$BIN" ] || { echo "no $BIN: cargo build --release -p mxshop first" >&2; exit 1; }

echo "making the Django source: the fixture plus $GOODS goods and $GOODS goods images"
"$MYSQL" -h127.0.0.1 -uroot -e "DROP DATABASE IF EXISTS $SOURCE_DB; CREATE DATABASE $SOURCE_DB CHARACTER SET utf8mb4"
"$MYSQL" -h127.0.0.1 -uroot "$SOURCE_DB" < ../shared/fixtures/django-mxshop-catalog.mysql.sql
# seq_1_to_N is MariaDB's Sequence engine. Prices step by 0.1 yuan as floats, so some are not a
# whole number of fen (as in real dumps) and are reported.
"$MYSQL" -h127.0.0.1 -uroot "$SOURCE_DB" <<SQL
INSERT INTO goods_goods (id, goods_sn, name, click_num, sold_num, fav_num, goods_num, market_price, shop_price,
  goods_brief, goods_desc, ship_free, goods_front_image, is_new, is_hot, add_time, category_id)
SELECT 1000 + seq, CONCAT('bench', seq), CONCAT('压测商品 ', seq), seq % 500, seq % 100, seq % 50, 100,
  39.9 + seq % 100, 19.9 + (seq % 50) * 0.1, '长江文艺出版社',
  '<p>&nbsp; &nbsp; 第二大类：社会科学、文化艺术</p><p>一段商品描述，一段商品描述，一段商品描述。</p>',
  1, 'goods/images/liuyong_wzq8kXx.png', seq % 2, seq % 3 = 0, '2020-01-01 00:00:00', 126
FROM seq_1_to_$GOODS;
INSERT INTO goods_goodsimage (id, image, add_time, goods_id)
SELECT 1000 + seq, 'goods/images/liuyong_NAHgZGX.png', '2020-01-01 00:00:00', 1000 + seq FROM seq_1_to_$GOODS;
SQL
FROM="mysql://root@127.0.0.1:3306/$SOURCE_DB"

echo
echo "== into SQLite"
"$BIN" import django --from "$FROM" --data-dir "$WORK/sqlite" | grep -E '^(categories|brands|goods|goods images):'
if command -v sqlite3 >/dev/null; then
  echo "rows in the SQLite goods table: $(sqlite3 "$WORK/sqlite/mxshop.db" 'SELECT COUNT(*) FROM goods')"
fi

echo
echo "== into PostgreSQL"
psql "$PG_ADMIN" -qc "DROP DATABASE IF EXISTS $TARGET_PG WITH (FORCE)" -c "CREATE DATABASE $TARGET_PG" 2>/dev/null
"$BIN" import django --from "$FROM" --data-dir "$WORK/pg" \
  --database-url "postgres://postgres@127.0.0.1:5432/$TARGET_PG" | grep -E '^(categories|brands|goods|goods images):'
echo "rows in the PostgreSQL goods table: $(psql "postgres://postgres@127.0.0.1:5432/$TARGET_PG" -Atc 'SELECT COUNT(*) FROM goods')"
