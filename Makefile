# Ingenium - GNU make build. Out-of-tree objects under build/<variant>/.
#
#   make            build build/ingenium
#   make run        install deps, build, paper-trade the bundled data
#   make test       install deps, build, run the whole test suite
#   make asan/tsan  the test suite under ASan+UBSan / TSan
#   make bench      latency and throughput benchmarks (bench/results/latest.json)
#   make soak       the kill -9 crash test with many more rounds (IG_CRASH_KILLS, default 200)
#   make fuzz       libFuzzer harnesses (fuzz/), FUZZ_SECONDS each (default 60); clang
#   make install    PREFIX=/usr/local DESTDIR=
#   make clean

CC      ?= gcc
PREFIX  ?= /usr/local
DESTDIR ?=
VARIANT ?= release

PKGS    := ck liburcu yaml-0.1 jansson libcurl libmicrohttpd sqlite3 nettle libwebsockets
WARN    := -Wall -Wextra -Wpedantic -Wshadow -Wconversion -Wsign-conversion \
           -Wstrict-prototypes -Wmissing-prototypes -Wpointer-arith -Wcast-qual \
           -Wwrite-strings -Wundef -Wformat=2 -Wimplicit-fallthrough -Wvla \
           -Wlogical-op -Wduplicated-cond -Werror
BASE_CFLAGS := -std=c11 -D_GNU_SOURCE -g -pthread $(WARN) -Iinclude -Isrc -MMD -MP

ifeq ($(VARIANT),release)
  BUILD := build
  VFLAGS := -O2
else ifeq ($(VARIANT),asan)
  BUILD := build/asan
  VFLAGS := -O1 -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=undefined
else ifeq ($(VARIANT),tsan)
  BUILD := build/tsan
  VFLAGS := -O1 -fno-omit-frame-pointer -fsanitize=thread -DIG_TSAN=1
else
  $(error unknown VARIANT $(VARIANT))
endif

# The history store's PostgreSQL backend (src/store/store_pg.c).
PKGS    += libpq

PKG_CFLAGS = $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   = $(shell pkg-config --libs $(PKGS) 2>/dev/null)
CFLAGS  += $(BASE_CFLAGS) $(VFLAGS) $(PKG_CFLAGS)
LDFLAGS += $(VFLAGS) -pthread
LDLIBS  += $(PKG_LIBS) -lm

LIB_SRCS   := $(shell find src -name '*.c' ! -path 'src/app/main.c' | sort) \
              $(sort $(wildcard strategies/*_strategy.c))
APP_SRCS   := src/app/main.c
TEST_SRCS  := $(shell find test -name 'test_*.c' 2>/dev/null | sort)
TEST_SUPPORT := $(filter-out $(TEST_SRCS),$(shell find test -name '*.c' ! -path 'test/plugins/*' 2>/dev/null | sort))
# Strategy plugins the tests load (test/plugins/NAME.c -> build/test/plugins/NAME.so).
PLUGIN_SRCS := $(sort $(wildcard test/plugins/*.c))
# The bench's store section starts a throwaway PostgreSQL cluster with the
# tests' helper.
BENCH_SRCS := $(sort $(wildcard bench/*.c)) test/store/pgtest.c

LIB_OBJS   := $(LIB_SRCS:%.c=$(BUILD)/obj/%.o)

# The dashboard's static files (src/api/www/), embedded in the binary: the
# generator tools/embed.c (built first, with the compiler alone) turns them
# into a C source under $(BUILD)/gen/ (docs/api.md, "Dashboard").
WWW_FILES  := index.html app.css app.js favicon.svg
WWW_SRCS   := $(addprefix src/api/www/,$(WWW_FILES))
EMBED      := $(BUILD)/tools/embed
WWW_GEN    := $(BUILD)/gen/www.c
WWW_OBJ    := $(BUILD)/obj/gen/www.o
APP_OBJS   := $(APP_SRCS:%.c=$(BUILD)/obj/%.o)
TEST_OBJS  := $(TEST_SRCS:%.c=$(BUILD)/obj/%.o)
SUPPORT_OBJS := $(TEST_SUPPORT:%.c=$(BUILD)/obj/%.o)
TEST_BINS  := $(TEST_SRCS:%.c=$(BUILD)/%)
BENCH_OBJS := $(BENCH_SRCS:%.c=$(BUILD)/obj/%.o)

PLUGINS    := $(PLUGIN_SRCS:test/plugins/%.c=$(BUILD)/test/plugins/%.so)

# The executable exports the SDK functions to dlopen'ed strategy plugins.
SDK_DYNLIST := src/strategy/sdk.dynlist
# The objects that define the SDK's functions, linked whole into every
# executable (not picked from the archive by use), so a plugin finds even
# the ones the engine itself never calls.
SDK_OBJS    := $(addprefix $(BUILD)/obj/,src/core/error.o src/core/event.o src/core/fixed.o \
               src/indicators/indicators.o src/strategy/host.o src/config/params.o)
EXPORT_SDK  := -Wl,--dynamic-list=$(SDK_DYNLIST)

LIB := $(BUILD)/libingenium.a
VERSION := $(shell sed -n 's/^\#define IG_VERSION "\(.*\)"/\1/p' src/app/main.c)
SDK_ABI := $(shell sed -n 's/^\#define IG_SDK_ABI_VERSION \([0-9]*\).*/\1/p' include/ingenium/strategy.h)
BIN := $(BUILD)/ingenium
BENCH_BIN := $(BUILD)/ingenium-bench

.PHONY: all run test asan tsan bench bench-quick install clean deps build-tests soak fuzz fuzz-build

all: $(BIN)

deps:
	@./scripts/install-deps.sh

$(BUILD)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -c $< -o $@

$(EMBED): tools/embed.c
	@mkdir -p $(dir $@)
	$(CC) -std=c11 -O1 $(WARN) -o $@ $<

$(WWW_GEN): $(EMBED) $(WWW_SRCS)
	@mkdir -p $(dir $@)
	$(EMBED) $@ src/api/www $(WWW_FILES)

$(WWW_OBJ): $(WWW_GEN)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -c $< -o $@

$(LIB): $(LIB_OBJS) $(WWW_OBJ)
	@mkdir -p $(dir $@)
	$(AR) rcs $@ $^

$(BIN): $(APP_OBJS) $(SDK_OBJS) $(LIB) $(SDK_DYNLIST)
	$(CC) $(LDFLAGS) $(EXPORT_SDK) -o $@ $(APP_OBJS) $(SDK_OBJS) $(LIB) $(LDLIBS)

# Tests find the plugins under the variant's build directory.
$(TEST_OBJS) $(SUPPORT_OBJS): CFLAGS += -DIG_TEST_PLUGIN_DIR='"$(BUILD)/test/plugins"' -DIG_TEST_VARIANT='"$(VARIANT)"'

$(BUILD)/test/%: $(BUILD)/obj/test/%.o $(SUPPORT_OBJS) $(SDK_OBJS) $(LIB) $(SDK_DYNLIST)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) $(EXPORT_SDK) -o $@ $< $(SUPPORT_OBJS) $(SDK_OBJS) $(LIB) $(LDLIBS) -lcmocka

# Built the way a plugin author builds one: only the public headers.
$(BUILD)/test/plugins/%.so: test/plugins/%.c $(wildcard include/ingenium/*.h)
	@mkdir -p $(dir $@)
	$(CC) -std=c11 -g $(WARN) $(VFLAGS) -shared -fPIC -Iinclude -o $@ $<

$(BENCH_BIN): $(BENCH_OBJS) $(LIB)
	$(CC) $(LDFLAGS) -o $@ $(BENCH_OBJS) $(LIB) $(LDLIBS)

build-tests: $(BIN) $(TEST_BINS) $(PLUGINS)

run: deps
	@$(MAKE) --no-print-directory all
	@./scripts/demo.sh $(BUILD)

test: deps
	@$(MAKE) --no-print-directory build-tests
	@./scripts/run-tests.sh $(BUILD)

asan: deps
	@$(MAKE) --no-print-directory VARIANT=asan build-tests
	@ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
		IG_SANITIZER=asan ./scripts/run-tests.sh build/asan

tsan: deps
	@$(MAKE) --no-print-directory VARIANT=tsan build-tests
	@TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1" \
		IG_SANITIZER=tsan ./scripts/run-tests.sh build/tsan

bench: deps
	@$(MAKE) --no-print-directory all $(BENCH_BIN)
	./$(BENCH_BIN) --out bench/results/latest.json

bench-quick: deps
	@$(MAKE) --no-print-directory all $(BENCH_BIN)
	./$(BENCH_BIN) --quick --out bench/results/quick.json

soak: deps
	@$(MAKE) --no-print-directory build-tests
	IG_CRASH_KILLS=$${IG_CRASH_KILLS:-200} ./$(BUILD)/test/integration/test_crash

# Fuzzing (fuzz/fuzz_*.c, libFuzzer): clang builds the library again with
# the fuzzer's coverage instrumentation and ASan+UBSan into build/fuzz/, and
# one binary per harness. Not part of `make test`.
FUZZ_CC      ?= clang
FUZZ_SECONDS ?= 60
FUZZ_TARGETS ?=
FUZZ_BUILD   := build/fuzz
FUZZ_SAN     := -fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer
FUZZ_CFLAGS   = -std=c11 -D_GNU_SOURCE -g -O1 -pthread $(WARN) -Wno-unknown-warning-option \
                -Iinclude -Isrc -MMD -MP $(PKG_CFLAGS) $(FUZZ_SAN)
FUZZ_SRCS    := $(sort $(wildcard fuzz/fuzz_*.c))
FUZZ_LIB_OBJS := $(LIB_SRCS:%.c=$(FUZZ_BUILD)/obj/%.o)
FUZZ_BINS    := $(FUZZ_SRCS:fuzz/%.c=$(FUZZ_BUILD)/%)
FUZZ_LIB     := $(FUZZ_BUILD)/libingenium.a

$(FUZZ_BUILD)/obj/src/%.o: src/%.c
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link -c $< -o $@

$(FUZZ_BUILD)/obj/strategies/%.o: strategies/%.c
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link -c $< -o $@

$(FUZZ_BUILD)/obj/fuzz/%.o: fuzz/%.c
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer -c $< -o $@

$(FUZZ_BUILD)/obj/gen/www.o: $(WWW_GEN)
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link -c $< -o $@

$(FUZZ_LIB): $(FUZZ_LIB_OBJS) $(FUZZ_BUILD)/obj/gen/www.o
	@mkdir -p $(dir $@)
	$(AR) rcs $@ $^

$(FUZZ_BUILD)/fuzz_%: $(FUZZ_BUILD)/obj/fuzz/fuzz_%.o $(FUZZ_LIB)
	$(FUZZ_CC) -fsanitize=fuzzer $(FUZZ_SAN) -pthread -o $@ $< $(FUZZ_LIB) $(PKG_LIBS) -lm

fuzz-build: $(FUZZ_BINS)

fuzz:
	@./scripts/install-deps.sh --fuzz
	@$(MAKE) --no-print-directory fuzz-build
	@FUZZ_SECONDS=$(FUZZ_SECONDS) FUZZ_TARGETS="$(FUZZ_TARGETS)" ./scripts/fuzz.sh $(FUZZ_BUILD)

# Installs the binary (exchange-sim is its subcommand), the SDK headers, the
# library a plugin may link for helpers (fixed-point, indicators; a plugin
# normally needs none: the binary exports the SDK functions) and a
# pkg-config file written for PREFIX:
#   cc -shared -fPIC $$(pkg-config --cflags ingenium) -o my.so my.c
# With DESTDIR, pkg-config --define-prefix (or PKG_CONFIG_SYSROOT_DIR)
# finds the staged tree.
install: all $(LIB)
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/include/ingenium \
		$(DESTDIR)$(PREFIX)/lib/pkgconfig $(DESTDIR)$(PREFIX)/share/ingenium/config
	install -m 0755 $(BIN) $(DESTDIR)$(PREFIX)/bin/ingenium
	install -m 0644 include/ingenium/*.h $(DESTDIR)$(PREFIX)/include/ingenium/
	install -m 0644 $(LIB) $(DESTDIR)$(PREFIX)/lib/libingenium.a
	install -m 0644 config/*.yaml $(DESTDIR)$(PREFIX)/share/ingenium/config/
	printf '%s\n' 'prefix=$(PREFIX)' 'exec_prefix=$${prefix}' 'libdir=$${prefix}/lib' \
		'includedir=$${prefix}/include' '' 'Name: ingenium' \
		'Description: Ingenium strategy SDK (SDK ABI $(SDK_ABI))' 'Version: $(VERSION)' \
		'Cflags: -I$${includedir}' 'Libs: -L$${libdir} -lingenium' \
		'Libs.private: $(strip $(PKG_LIBS)) -lm -pthread' \
		> $(DESTDIR)$(PREFIX)/lib/pkgconfig/ingenium.pc
	chmod 0644 $(DESTDIR)$(PREFIX)/lib/pkgconfig/ingenium.pc

clean:
	rm -rf build

-include $(shell find build -name '*.d' 2>/dev/null)
