/* ingest_ref.c — the reference for bench/gateway.sh: the database's own speed at storing what the
 * gateway's flood stores, with nothing of nuanxin in between.
 *
 *   bench_ingest_ref DB SECONDS DEVICE_ID…
 *
 * Writes, into a copy of a nuanxin database (same schema and indexes), the rows devices_ingest
 * writes for a flood of position + health-reading frames from the given devices, round-robin:
 *   position: INSERT device_positions; UPDATE devices (seen, online, battery, last fix, step
 *             counter, steps today); INSERT … ON CONFLICT UPDATE device_steps
 *   reading:  INSERT device_readings; UPDATE devices (seen, last_hr/sys/dia)
 * with statements prepared once, INGEST_BATCH (200) frames per BEGIN IMMEDIATE … COMMIT, and the
 * pragmas of src/store/sqlite.c (WAL, synchronous=FULL, foreign_keys=ON, 16 MiB cache, 128 MiB
 * mmap). What it leaves out is exactly nuanxin's cost: the device look-up by IMEI, the resident's
 * alert rules, the per-frame statement preparation and binding through store.h, decoding, the queue.
 * Runs for SECONDS and prints one JSON line: {"rows":…, "seconds":…, "rows_per_s":…, "batches":…}.
 * "rows" counts frames (one position or one reading each), as the simulator counts what it sends. */
#include <sqlite3.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define BATCH 200

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int64_t epoch_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int check(sqlite3 *db, int rc, const char *what)
{
    if (rc != SQLITE_OK && rc != SQLITE_DONE && rc != SQLITE_ROW) {
        fprintf(stderr, "bench_ingest_ref: %s: %s\n", what, sqlite3_errmsg(db));
        exit(1);
    }
    return rc;
}

static sqlite3_stmt *prep(sqlite3 *db, const char *sql)
{
    sqlite3_stmt *st = NULL;
    check(db, sqlite3_prepare_v3(db, sql, -1, SQLITE_PREPARE_PERSISTENT, &st, NULL), sql);
    return st;
}

static void run(sqlite3 *db, sqlite3_stmt *st)
{
    check(db, sqlite3_step(st), sqlite3_sql(st));
    sqlite3_reset(st);
}

int main(int argc, char **argv)
{
    if (argc < 4) {
        fprintf(stderr, "usage: bench_ingest_ref DB SECONDS DEVICE_ID...\n");
        return 2;
    }
    char *end = NULL;
    double secs = strtod(argv[2], &end);
    if (!end || *end || secs <= 0) {
        fprintf(stderr, "bench_ingest_ref: SECONDS must be a positive number\n");
        return 2;
    }
    int ndev = argc - 3;
    int64_t *dev = calloc((size_t)ndev, sizeof *dev);
    int64_t *counter = calloc((size_t)ndev, sizeof *counter);
    if (!dev || !counter)
        return 1;
    for (int i = 0; i < ndev; i++) {
        dev[i] = strtoll(argv[3 + i], &end, 10);
        if (!end || *end || dev[i] <= 0) {
            fprintf(stderr, "bench_ingest_ref: bad device id %s\n", argv[3 + i]);
            return 2;
        }
    }
    sqlite3 *db = NULL;
    if (sqlite3_open_v2(argv[1], &db, SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK) {
        fprintf(stderr, "bench_ingest_ref: cannot open %s\n", argv[1]);
        return 1;
    }
    sqlite3_busy_timeout(db, 5000);
    check(db,
          sqlite3_exec(db,
                       "PRAGMA journal_mode=WAL; PRAGMA foreign_keys=ON; PRAGMA synchronous=FULL; "
                       "PRAGMA temp_store=MEMORY; PRAGMA cache_size=-16384; PRAGMA mmap_size=134217728;",
                       NULL, NULL, NULL),
          "pragmas");
    sqlite3_stmt *begin = prep(db, "BEGIN IMMEDIATE"), *commit = prep(db, "COMMIT");
    sqlite3_stmt *ins_pos = prep(db, "INSERT INTO device_positions (device_id, at, fix_at, fix, lat_e6, lon_e6, speed_e1, "
                                     "course_e1, satellites, cells, wifi, delayed) "
                                     "VALUES (?1, ?2, ?2, 1, ?3, ?4, 0, 0, 6, 0, 0, 0)");
    sqlite3_stmt *upd_pos = prep(db, "UPDATE devices SET online = 1, last_seen_at = ?2, updated_at = ?2, battery = ?3, "
                                     "last_fix_at = ?2, last_lat_e6 = ?4, last_lon_e6 = ?5, step_counter = ?6, "
                                     "steps_day = ?7, steps_today = ?6 WHERE id = ?1");
    sqlite3_stmt *ins_steps = prep(db, "INSERT INTO device_steps (device_id, day, steps, updated_at) VALUES (?1, ?2, ?3, ?4) "
                                       "ON CONFLICT (device_id, day) DO UPDATE SET steps = excluded.steps, "
                                       "updated_at = excluded.updated_at");
    sqlite3_stmt *ins_read = prep(db, "INSERT INTO device_readings (device_id, at, hr, sys, dia) VALUES (?1, ?2, ?3, ?4, ?5)");
    sqlite3_stmt *upd_read = prep(db, "UPDATE devices SET online = 1, last_seen_at = ?2, updated_at = ?2, last_hr = ?3, "
                                      "last_sys = ?4, last_dia = ?5, last_reading_at = ?2 WHERE id = ?1");
    unsigned seed = 7;
    uint64_t rows = 0, batches = 0;
    double t0 = now_s(), t1 = t0;
    const char *day = "2026-11-29";
    while (t1 - t0 < secs) {
        run(db, begin);
        for (int k = 0; k < BATCH; k++, rows++) {
            int i = (int)((rows / 2) % (uint64_t)ndev);
            int64_t at = epoch_ms();
            if (rows % 2 == 0) {
                int lat = 36457400 + (int)(rand_r(&seed) % 4000) - 2000,
                    lon = 116298400 + (int)(rand_r(&seed) % 4000) - 2000;
                counter[i] += rand_r(&seed) % 120;
                sqlite3_bind_int64(ins_pos, 1, dev[i]);
                sqlite3_bind_int64(ins_pos, 2, at);
                sqlite3_bind_int(ins_pos, 3, lat);
                sqlite3_bind_int(ins_pos, 4, lon);
                run(db, ins_pos);
                sqlite3_bind_int64(upd_pos, 1, dev[i]);
                sqlite3_bind_int64(upd_pos, 2, at);
                sqlite3_bind_int(upd_pos, 3, 80);
                sqlite3_bind_int(upd_pos, 4, lat);
                sqlite3_bind_int(upd_pos, 5, lon);
                sqlite3_bind_int64(upd_pos, 6, counter[i]);
                sqlite3_bind_text(upd_pos, 7, day, -1, SQLITE_STATIC);
                run(db, upd_pos);
                sqlite3_bind_int64(ins_steps, 1, dev[i]);
                sqlite3_bind_text(ins_steps, 2, day, -1, SQLITE_STATIC);
                sqlite3_bind_int64(ins_steps, 3, counter[i]);
                sqlite3_bind_int64(ins_steps, 4, at);
                run(db, ins_steps);
            } else {
                int hr = 60 + (int)(rand_r(&seed) % 30), sys = 110 + (int)(rand_r(&seed) % 30),
                    dia = 70 + (int)(rand_r(&seed) % 15);
                sqlite3_stmt *sts[] = {ins_read, upd_read};
                for (int j = 0; j < 2; j++) {
                    sqlite3_bind_int64(sts[j], 1, dev[i]);
                    sqlite3_bind_int64(sts[j], 2, at);
                    sqlite3_bind_int(sts[j], 3, hr);
                    sqlite3_bind_int(sts[j], 4, sys);
                    sqlite3_bind_int(sts[j], 5, dia);
                    run(db, sts[j]);
                }
            }
        }
        run(db, commit);
        batches++;
        t1 = now_s();
    }
    double el = t1 - t0;
    printf("{\"rows\":%llu,\"seconds\":%.3f,\"rows_per_s\":%.1f,\"batches\":%llu}\n", (unsigned long long)rows, el,
           (double)rows / el, (unsigned long long)batches);
    sqlite3_stmt *all[] = {begin, commit, ins_pos, upd_pos, ins_steps, ins_read, upd_read};
    for (size_t j = 0; j < sizeof all / sizeof all[0]; j++)
        sqlite3_finalize(all[j]);
    sqlite3_close(db);
    free(dev);
    free(counter);
    return 0;
}
