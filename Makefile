# Thin wrapper over CMake. Every target first installs the Debian packages
# that are missing (scripts/install-deps.sh: apt-get update once, then install).
BUILD ?= build
JOBS ?= $(shell nproc 2>/dev/null || echo 2)
CMAKE_FLAGS ?=
FUZZ_SECONDS ?= 60
PREFIX ?= /usr/local

.PHONY: all deps build check check-layers check-abi abi-baseline abi-lib demo install uninstall bench check-sanitize check-valgrind fuzz format check-format clean

all: build

deps:
	@sh scripts/install-deps.sh

build: deps
	@cmake -S . -B $(BUILD) $(CMAKE_FLAGS) >/dev/null
	@cmake --build $(BUILD) -j $(JOBS)

check: build
	@cd $(BUILD) && ctest --output-on-failure -j $(JOBS)

# No module cycle under src/ and natx a floor, read from the sources and
# the objects the build produced (scripts/check-layers.py --help).
check-layers: build
	@python3 scripts/check-layers.py $(BUILD)

# The demo builds what it needs itself, quietly (errors still shown).
demo: deps
	@sh scripts/demo.sh $(BUILD)

# Configured with the prefix, so the flusher path compiled into the library
# is the installed one.
# PREFIX may be relative: made absolute here, since it is compiled in.
install: deps
	@cmake -S . -B $(BUILD) $(CMAKE_FLAGS) -DCMAKE_INSTALL_PREFIX="$(abspath $(PREFIX))" >/dev/null
	@cmake --build $(BUILD) -j $(JOBS)
	@cmake --install $(BUILD)

# Removes every file the last `make install` with this BUILD wrote
# ($(BUILD)/install_manifest.txt) and the directories it created.
uninstall:
	@sh cmake/uninstall.sh $(BUILD)

# The ABI of libnattel.so against the committed baseline (docs/design.md,
# "The ABI promise"): additions pass, an incompatible change fails unless
# the soname moved. Its own build directory, with debug information,
# since abidw reads the types from DWARF (source paths made relative, so
# the baseline does not depend on where the clone is).
ABI_BUILD ?= build-abi
# The library's soname (libnattel.so.1) names its baseline, abi/SONAME.abi.xml.
ABI_SONAME = soname=$$(readelf -d $(ABI_BUILD)/libnattel.so | sed -n 's/.*(SONAME).*\[\(.*\)\]/\1/p')
abi-lib:
	@sh scripts/install-deps.sh abigail-tools
	@cmake -S . -B $(ABI_BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo -DNATTEL_TESTS=OFF \
	  -DCMAKE_C_FLAGS="-ffile-prefix-map=$(CURDIR)/=" >/dev/null
	@cmake --build $(ABI_BUILD) -j $(JOBS) --target nattel_shared >/dev/null

# With no baseline for the soname (it moved), the newest one is compared:
# the checker then says so and passes.
check-abi: abi-lib
	@$(ABI_SONAME); baseline=abi/$$soname.abi.xml; \
	[ -f "$$baseline" ] || baseline=$$(ls abi/*.abi.xml | sort -V | tail -n 1); \
	sh scripts/check-abi.sh check $(ABI_BUILD)/$$soname include/nattel "$$baseline"

# Writes the baseline from the library as built now: run it when an ABI
# change is meant (an addition, or a new soname), and commit the file.
abi-baseline: abi-lib
	@mkdir -p abi
	@$(ABI_SONAME); sh scripts/check-abi.sh dump $(ABI_BUILD)/$$soname include/nattel abi/$$soname.abi.xml

bench: build
	@sh bench/run.sh $(BUILD)

check-sanitize: deps
	@cmake -S . -B build-sanitize -DNATTEL_SANITIZE=ON -DCMAKE_BUILD_TYPE=Debug >/dev/null
	@cmake --build build-sanitize -j $(JOBS)
	@cd build-sanitize && ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
	  UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 ctest --output-on-failure -j $(JOBS)

check-valgrind: build
	@sh scripts/check-valgrind.sh $(BUILD)

fuzz:
	@sh scripts/install-deps.sh clang libclang-rt-14-dev
	@CC=clang cmake -S . -B build-fuzz -DNATTEL_FUZZ=ON -DNATTEL_TESTS=OFF -DCMAKE_BUILD_TYPE=Debug >/dev/null
	@cmake --build build-fuzz -j $(JOBS)
	@FUZZ_SECONDS=$(FUZZ_SECONDS) sh scripts/fuzz.sh build-fuzz

# Every C file the project formats (tests/compile holds deliberate oddities).
FORMATTED = $(wildcard include/nattel/*.h src/*/*.[ch] src/*/*/*.[ch] tests/unit/*.[ch] \
	examples/*/*.c fuzz/*.[ch] bench/*.c)

format:
	@clang-format -i $(FORMATTED)

check-format:
	@sh scripts/install-deps.sh clang-format
	@clang-format --dry-run -Werror $(FORMATTED) && echo "format: every C file follows .clang-format"

clean:
	rm -rf $(BUILD) build-sanitize build-fuzz $(ABI_BUILD)
