// bench_simdjson: the floor a JSON parser reaches on this machine
// (simdjson, DOM API). Benchmark only; nattel does not link it.
//
//   bench_simdjson --event JSON [--seconds S] [--rounds N]
//       ns per DOM parse of JSON (one parser reused, input padded once),
//       best of N rounds of at least S seconds: "simdjson_event_ns X".
//   bench_simdjson --many FILE
//       parse_many over FILE (JSON lines), every document parsed and
//       checked; prints "docs N" and exits 1 when one is invalid. Timed
//       from outside, like `nattel validate`, so file reading counts too.
#include <simdjson.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

static double now_s()
{
    using clock = std::chrono::steady_clock;
    return std::chrono::duration<double>(clock::now().time_since_epoch()).count();
}

static volatile size_t sink;

static int bench_event(const std::string &json, double min_s, int rounds)
{
    simdjson::dom::parser parser;
    simdjson::padded_string padded(json);
    double best = 1e300;
    for (int r = 0; r < rounds; r++) {
        unsigned long long n = 0;
        double t0 = now_s(), t;
        do {
            for (int k = 0; k < 1000; k++) {
                simdjson::dom::element doc;
                if (parser.parse(padded).get(doc)) {
                    std::fprintf(stderr, "bench_simdjson: refused %s\n", json.c_str());
                    return 1;
                }
                sink += doc.is_object();
            }
            n += 1000;
            t = now_s() - t0;
        } while (t < min_s);
        double ns = t * 1e9 / (double)n;
        if (ns < best)
            best = ns;
    }
    std::printf("simdjson_event_ns %.1f\n", best);
    return 0;
}

static int bench_many(const char *path)
{
    simdjson::padded_string text;
    if (simdjson::padded_string::load(path).get(text)) {
        std::fprintf(stderr, "bench_simdjson: cannot read %s\n", path);
        return 2;
    }
    simdjson::dom::parser parser;
    simdjson::dom::document_stream stream;
    if (parser.parse_many(text).get(stream)) {
        std::fprintf(stderr, "bench_simdjson: parse_many failed\n");
        return 1;
    }
    size_t docs = 0;
    for (auto doc : stream) {
        simdjson::dom::element e;
        if (doc.get(e)) {
            std::fprintf(stderr, "bench_simdjson: document %zu is invalid\n", docs + 1);
            return 1;
        }
        docs++;
    }
    std::printf("docs %zu\n", docs);
    return 0;
}

int main(int argc, char **argv)
{
    double min_s = 1.0;
    int rounds = 3;
    const char *event = nullptr, *many = nullptr;
    for (int i = 1; i < argc; i++) {
        if (!std::strcmp(argv[i], "--event") && i + 1 < argc)
            event = argv[++i];
        else if (!std::strcmp(argv[i], "--many") && i + 1 < argc)
            many = argv[++i];
        else if (!std::strcmp(argv[i], "--seconds") && i + 1 < argc)
            min_s = std::atof(argv[++i]);
        else if (!std::strcmp(argv[i], "--rounds") && i + 1 < argc)
            rounds = std::atoi(argv[++i]);
        else {
            std::fprintf(stderr, "usage: bench_simdjson --event JSON [--seconds S] "
                                 "[--rounds N] | --many FILE\n");
            return 2;
        }
    }
    if (event)
        return bench_event(event, min_s, rounds);
    if (many)
        return bench_many(many);
    std::fprintf(stderr, "bench_simdjson: --event or --many\n");
    return 2;
}
