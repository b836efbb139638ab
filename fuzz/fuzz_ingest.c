/* The endpoint's request handling without HTTP: a POSTed body to a status
 * and an answer. Every answer is one of the documented statuses with a
 * JSON body, and a 200 stored exactly the envelope's events. */
#include "fuzz_common.h"

#include "serve/serve_ingest.h"
#include "json/nattel_json.h"

static nattel_registry *reg;
static serve_store *store;
static unsigned long runs;

static void reopen(void)
{
    nattel_error err;
    serve_store_close(store);
    /* A fresh in-memory database now and then keeps memory flat. */
    if (serve_store_open(":memory:", 0, &store, &err)) {
        fprintf(stderr, "fuzz_ingest: %s\n", err.message);
        abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!reg)
        reg = nattel_registry_new();
    if (!reg)
        abort();
    if (!store || ++runs % 5000 == 0)
        reopen();
    char *body = fuzz_copy(data, size);
    if (!body)
        return 0;
    int64_t before = 0, after = 0;
    serve_store_event_count(store, &before, NULL);
    serve_ingest_result res;
    nattel_code rc =
        serve_ingest(reg, store, body, size, NULL, 1764064800000, &res);
    FUZZ_CHECK(rc == NATTEL_OK, "ingest failed to answer: %s",
               nattel_code_name(rc));
    FUZZ_CHECK(res.status == 200 || res.status == 400 || res.status == 413 ||
                   res.status == 422 || res.status == 500,
               "status %u", res.status);
    nattel__jdoc d;
    nattel_error err;
    FUZZ_CHECK(nattel__json_parse(&d, res.body.data, res.body.len, &err) ==
                   NATTEL_OK,
               "answer is not JSON: %s: %.200s", err.message, res.body.data);
    nattel__json_release(&d);
    serve_store_event_count(store, &after, NULL);
    FUZZ_CHECK(res.status == 200
                   ? after - before == (int64_t)res.stored &&
                         res.accepted > 0 && res.stored <= res.accepted
                   : after == before,
               "status %u, accepted %zu (%zu new), stored %lld", res.status,
               res.accepted, res.stored, (long long)(after - before));
    serve_ingest_result_free(&res);
    free(body);
    return 0;
}
