/*
 * Differential: the strict reader (nattel__json_parse) against jansson on
 * the same bytes. Both must accept exactly the RFC 8259 documents, and
 * decode the same values: strings byte for byte, integers exactly, other
 * numbers to the same double, the same members and elements.
 *
 * Where the two differ by design, the input is skipped:
 *  - a NUL byte anywhere (jansson's buffer API and our reader both refuse
 *    it, for different stated reasons);
 *  - our limits (NATTEL_ELIMIT: depth 64, size, token count) and jansson's
 *    (depth 2048, out of memory);
 *  - jansson refusing an integer outside its json_int_t or a real that
 *    overflows a double (we accept any RFC 8259 number at this level; the
 *    validator applies the int64 rule), and a key holding U+0000.
 * Duplicate keys are accepted by both at this level (jansson keeps the last
 * value; so must the comparison). Rejecting them is the validator's job.
 *
 * The compact re-encoding (nattel__json_put_token) of an accepted document
 * must parse again and be a fixed point.
 */
#include "fuzz_common.h"
#include "json/nattel_json.h"

#include <jansson.h>
#include <math.h>

static void compare(const nattel__jdoc *d, unsigned t, json_t *j);

static char *decode(const nattel__jdoc *d, unsigned t, size_t *len)
{
    nattel_str raw = nattel__json_raw(d, t);
    char *s = malloc(raw.len + 1);
    if (!s)
        abort();
    *len = nattel__json_decode_string(d, t, s);
    FUZZ_CHECK(*len <= raw.len, "decoded %zu bytes from %zu", *len, raw.len);
    return s;
}

static int has_fraction_or_exponent(const nattel__jdoc *d, unsigned t)
{
    for (int i = d->toks[t].start; i < d->toks[t].end; i++) {
        char c = d->src[i];
        if (c == '.' || c == 'e' || c == 'E')
            return 1;
    }
    return 0;
}

static void compare_number(const nattel__jdoc *d, unsigned t, json_t *j)
{
    int n = d->toks[t].end - d->toks[t].start;
    const char *text = d->src + d->toks[t].start;
    int64_t i = 0;
    nattel__jnum_class cls = nattel__json_int(d, t, &i);
    if (!has_fraction_or_exponent(d, t)) {
        FUZZ_CHECK(json_is_integer(j),
                   "'%.*s': jansson type %d, not an integer", n, text,
                   json_typeof(j));
        FUZZ_CHECK(cls == NATTEL__JNUM_INT &&
                       i == (int64_t)json_integer_value(j),
                   "'%.*s': nattel class %d value %lld, jansson %lld", n, text,
                   (int)cls, (long long)i, (long long)json_integer_value(j));
        return;
    }
    FUZZ_CHECK(json_is_real(j), "'%.*s': jansson type %d, not a real", n, text,
               json_typeof(j));
    double ours = 0, theirs = json_real_value(j);
    nattel_code rc = nattel__json_double(d, t, &ours);
    FUZZ_CHECK(rc == NATTEL_OK, "'%.*s': nattel__json_double %s, jansson %.17g",
               n, text, nattel_code_name(rc), theirs);
    FUZZ_CHECK(memcmp(&ours, &theirs, sizeof ours) == 0,
               "'%.*s': nattel %.17g, jansson %.17g", n, text, ours, theirs);
    /* The exact classification agrees with the double where that is sound. */
    if (cls == NATTEL__JNUM_INT && i > -(INT64_C(1) << 53) &&
        i < (INT64_C(1) << 53))
        FUZZ_CHECK((double)i == theirs,
                   "'%.*s': nattel integer %lld, double %.17g", n, text,
                   (long long)i, theirs);
    if (cls == NATTEL__JNUM_OUT_OF_RANGE)
        FUZZ_CHECK(fabs(theirs) >= 9223372036854775808.0,
                   "'%.*s': nattel says out of int64 range, double %.17g", n,
                   text, theirs);
}

static void compare_object(const nattel__jdoc *d, unsigned t, json_t *j)
{
    FUZZ_CHECK(json_is_object(j), "object at byte %d: jansson type %d",
               d->toks[t].start, json_typeof(j));
    /* Last occurrence of each key -> its value token, as jansson keeps. */
    json_t *last = json_object();
    if (!last)
        abort();
    unsigned c = t + 1;
    for (int k = 0; k < d->toks[t].members; k++) {
        FUZZ_CHECK(nattel__json_is_string(d, c),
                   "key %d of object at byte %d not a string", k,
                   d->toks[t].start);
        size_t klen;
        char *key = decode(d, c, &klen);
        if (nattel__json_raw(d, c).len <= 4096)
            FUZZ_CHECK(
                nattel__json_string_eq(d, c, key, klen),
                "nattel__json_string_eq disagrees with decode on key '%s'",
                key);
        unsigned v = c + 1;
        if (json_object_setn_new_nocheck(last, key, klen, json_integer(v)))
            abort();
        free(key);
        c = (unsigned)NATTEL__JNEXT(&d->toks[v]);
    }
    FUZZ_CHECK(c == (unsigned)NATTEL__JNEXT(&d->toks[t]),
               "object subtree ends at %u, not %d", c,
               NATTEL__JNEXT(&d->toks[t]));
    FUZZ_CHECK(json_object_size(last) == json_object_size(j),
               "object at byte %d: %zu distinct keys, jansson %zu",
               d->toks[t].start, json_object_size(last), json_object_size(j));
    const char *key;
    size_t klen;
    json_t *idx;
    json_object_keylen_foreach(last, key, klen, idx)
    {
        json_t *jv = json_object_getn(j, key, klen);
        FUZZ_CHECK(jv != NULL,
                   "key '%.*s' decoded by nattel is not in jansson's object",
                   (int)klen, key);
        compare(d, (unsigned)json_integer_value(idx), jv);
    }
    json_decref(last);
}

static void compare(const nattel__jdoc *d, unsigned t, json_t *j)
{
    switch (d->toks[t].type) {
    case NATTEL__JOBJECT:
        compare_object(d, t, j);
        return;
    case NATTEL__JARRAY: {
        FUZZ_CHECK(json_is_array(j), "array at byte %d: jansson type %d",
                   d->toks[t].start, json_typeof(j));
        FUZZ_CHECK((size_t)d->toks[t].members == json_array_size(j),
                   "array at byte %d: %d elements, jansson %zu",
                   d->toks[t].start, d->toks[t].members, json_array_size(j));
        unsigned c = t + 1;
        for (int k = 0; k < d->toks[t].members; k++) {
            compare(d, c, json_array_get(j, (size_t)k));
            c = (unsigned)NATTEL__JNEXT(&d->toks[c]);
        }
        FUZZ_CHECK(c == (unsigned)NATTEL__JNEXT(&d->toks[t]),
                   "array subtree ends at %u, not %d", c,
                   NATTEL__JNEXT(&d->toks[t]));
        return;
    }
    case NATTEL__JSTRING: {
        FUZZ_CHECK(json_is_string(j), "string at byte %d: jansson type %d",
                   d->toks[t].start, json_typeof(j));
        size_t len;
        char *s = decode(d, t, &len);
        FUZZ_CHECK(
            len == json_string_length(j) &&
                memcmp(s, json_string_value(j), len) == 0,
            "string at byte %d: nattel %zu bytes, jansson %zu bytes differ",
            d->toks[t].start, len, json_string_length(j));
        free(s);
        return;
    }
    default:
        break;
    }
    switch (nattel__json_lead(d, t)) {
    case 't':
        FUZZ_CHECK(json_is_true(j), "true at byte %d: jansson type %d",
                   d->toks[t].start, json_typeof(j));
        return;
    case 'f':
        FUZZ_CHECK(json_is_false(j), "false at byte %d: jansson type %d",
                   d->toks[t].start, json_typeof(j));
        return;
    case 'n':
        FUZZ_CHECK(json_is_null(j), "null at byte %d: jansson type %d",
                   d->toks[t].start, json_typeof(j));
        return;
    default:
        FUZZ_CHECK(nattel__json_is_number(d, t),
                   "primitive at byte %d is not a number", d->toks[t].start);
        compare_number(d, t, j);
    }
}

static void reencode(const nattel__jdoc *d)
{
    nattel_buf once = NATTEL_BUF_INIT, twice = NATTEL_BUF_INIT;
    FUZZ_CHECK(nattel__json_put_token(&once, d, 0) == NATTEL_OK,
               "re-encoding failed");
    nattel__jdoc d2;
    memset(&d2, 0, sizeof d2);
    nattel_error err;
    nattel_code rc = nattel__json_parse(&d2, once.data, once.len, &err);
    FUZZ_CHECK(rc == NATTEL_OK, "compact re-encoding refused: %s", err.message);
    FUZZ_CHECK(d2.count == d->count,
               "compact re-encoding has %u tokens, not %u", d2.count, d->count);
    FUZZ_CHECK(nattel__json_put_token(&twice, &d2, 0) == NATTEL_OK &&
                   twice.len == once.len &&
                   memcmp(twice.data, once.data, once.len) == 0,
               "compact re-encoding is not a fixed point");
    nattel__json_release(&d2);
    nattel_buf_free(&once);
    nattel_buf_free(&twice);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (memchr(data, '\0', size))
        return 0;
    char *src = fuzz_copy(data, size);
    if (!src)
        return 0;
    nattel__jdoc doc;
    memset(&doc, 0, sizeof doc);
    nattel_error err;
    memset(&err, 0, sizeof err);
    nattel_code ours = nattel__json_parse(&doc, src, size, &err);
    json_error_t jerr;
    json_t *j = json_loadb(src, size, JSON_DECODE_ANY | JSON_ALLOW_NUL, &jerr);
    if (ours == NATTEL_ELIMIT || ours == NATTEL_ENOMEM)
        goto done;
    if (!j) {
        enum json_error_code code = json_error_code(&jerr);
        if (code == json_error_numeric_overflow ||
            code == json_error_null_byte_in_key ||
            code == json_error_stack_overflow ||
            code == json_error_out_of_memory)
            goto done;
        FUZZ_CHECK(ours != NATTEL_OK,
                   "nattel accepts what jansson refuses (%s, byte %d)",
                   jerr.text, jerr.position);
        FUZZ_CHECK(ours == NATTEL_EPARSE && err.message[0],
                   "refused with %s, message '%s'", nattel_code_name(ours),
                   err.message);
        goto done;
    }
    FUZZ_CHECK(ours == NATTEL_OK, "jansson accepts what nattel refuses: %s",
               err.message);
    compare(&doc, 0, j);
    FUZZ_CHECK((unsigned)NATTEL__JNEXT(&doc.toks[0]) == doc.count,
               "root subtree ends at %d of %u tokens",
               NATTEL__JNEXT(&doc.toks[0]), doc.count);
    reencode(&doc);
done:
    json_decref(j);
    nattel__json_release(&doc);
    free(src);
    return 0;
}
