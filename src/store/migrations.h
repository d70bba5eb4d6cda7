/* migrations.h — the SQL migrations compiled into the binary (generated, see
 * cmake/embed_migrations.cmake). The array ends with an entry whose backend is NULL. */
#ifndef NX_STORE_MIGRATIONS_H
#define NX_STORE_MIGRATIONS_H

struct nx_migration {
    const char *backend; /* "sqlite" or "postgres" */
    int number;          /* NNN of NNN_name.sql */
    const char *name;    /* "001_init" */
    const char *sql;
};

extern const struct nx_migration nx_migrations[];

#endif
