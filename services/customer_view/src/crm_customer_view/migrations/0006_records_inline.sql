-- Keep a record row inline and uncompressed up to a page's worth (toast_tuple_target's
-- largest value) rather than from 2 KB on. A record and its masked copy are ~1.2 KB each,
-- so every stored row crossed the default threshold and Postgres compressed both with
-- pglz on every write (and decompressed them on every read). COPY of 12,000 records
-- (micro-benchmark): 0.26-0.30 s of Postgres CPU compressed, 0.11-0.14 s inline; the
-- table is ~60% larger (35 MB against 22 MB). Larger records are still TOASTed.
ALTER TABLE customer_records SET (toast_tuple_target = 8160);
