# runf: one place for flags.  `make` builds, `make check` installs what is
# missing and runs every test, `make demo` shows it working, `make bench`
# measures it against crun and runc.

CC ?= cc
PKG_CONFIG ?= pkg-config
BUILD ?= build
PREFIX ?= /usr/local

WARNINGS = -Wall -Wextra -Werror -Wshadow -Wmissing-prototypes -Wformat=2 \
           -Wno-unused-parameter
CFLAGS ?= -O2 -g
ALL_CFLAGS = -std=gnu11 $(WARNINGS) $(CFLAGS) -D_GNU_SOURCE -Isrc/lib \
             -fstack-protector-strong -D_FORTIFY_SOURCE=2 -MMD -MP
# Symbols bound at start: every container's init is a fork that would
# otherwise resolve again, in its own copy, each libc function it calls.
BIND_NOW = -Wl,-z,now -Wl,-z,relro
SAN_CFLAGS = -std=gnu11 $(WARNINGS) -O1 -g -D_GNU_SOURCE -Isrc/lib \
             -fsanitize=address,undefined -fno-omit-frame-pointer \
             -fno-sanitize-recover=undefined -MMD -MP

# Every shared library costs start time, so runf links its few libraries
# statically and only libc dynamically.
RUNTIME_PKGS = jansson libseccomp
RUNTIME_LIBS = -Wl,-Bstatic $(shell $(PKG_CONFIG) --libs $(RUNTIME_PKGS)) -Wl,-Bdynamic
RUNTIME_LIBS_DYN = $(shell $(PKG_CONFIG) --libs $(RUNTIME_PKGS))
CMOCKA_LIBS = $(shell $(PKG_CONFIG) --libs cmocka)

COMMON_SRCS = $(wildcard src/lib/common/*.c)
RUNTIME_SRCS = $(wildcard src/lib/runtime/*.c src/lib/runtime/linux/*.c)
IMAGE_SRCS = $(wildcard src/lib/image/*.c)
RUNF_SRCS = $(wildcard src/runf/*.c)
UNIT_SRCS = $(wildcard tests/unit/test_*.c)
HELPER_SRCS = $(wildcard tests/helpers/*.c)

obj = $(patsubst %.c,$(BUILD)/obj/%.o,$(1))
sanobj = $(patsubst %.c,$(BUILD)/san/%.o,$(1))

UNIT_BINS = $(patsubst tests/unit/%.c,$(BUILD)/unit/%,$(UNIT_SRCS))
UNIT_SANBINS = $(patsubst tests/unit/%.c,$(BUILD)/unit-san/%,$(UNIT_SRCS))
HELPER_BINS = $(patsubst tests/helpers/%.c,$(BUILD)/helpers/%,$(HELPER_SRCS))

# The programs, the one list `all` builds and `install` puts in place:
# commands in bin/, the helpers runfd starts in lib/runf/.
BIN_PROGRAMS = runf runfctl runfd
HELPER_PROGRAMS = runf-shim runfd-spawner
PROGRAMS = $(addprefix $(BUILD)/bin/,$(BIN_PROGRAMS) $(HELPER_PROGRAMS))
# What `make bench` runs, in this order (each a target below).
BENCHES = bench-image bench-faas bench-soak bench-runtime

.PHONY: all deps check check-vm unit demo bench clean install fixtures fuzz-check
all: $(PROGRAMS) share

# The three libraries, each compiled once (and once more under ASan+UBSan
# for the unit tests), linked as archives in this order: image uses the
# runtime (spec_default.c's config.json) and both use common.
RUNTIME_A = $(BUILD)/libruntime.a $(BUILD)/libcommon.a
RUNTIME_SAN_A = $(BUILD)/libruntime-san.a $(BUILD)/libcommon-san.a
IMAGE_A = $(BUILD)/libimage.a $(RUNTIME_A)
IMAGE_SAN_A = $(BUILD)/libimage-san.a $(RUNTIME_SAN_A)

$(BUILD)/libcommon.a: $(call obj,$(COMMON_SRCS))
$(BUILD)/libruntime.a: $(call obj,$(RUNTIME_SRCS))
$(BUILD)/libimage.a: $(call obj,$(IMAGE_SRCS))
$(BUILD)/libcommon-san.a: $(call sanobj,$(COMMON_SRCS))
$(BUILD)/libruntime-san.a: $(call sanobj,$(RUNTIME_SRCS))
$(BUILD)/libimage-san.a: $(call sanobj,$(IMAGE_SRCS))
$(BUILD)/lib%.a:
	@rm -f $@
	ar rcs $@ $^

# --systemd-cgroup speaks sd-bus, with libsystemd-dev's header; the library
# itself, with the five it pulls in, is loaded only when the driver is used
# (cgroup_systemd.c: linked, it would cost every runf start ~1.6 ms).
SYSTEMD_USERS = $(call obj,src/lib/runtime/cgroup_systemd.c) $(call sanobj,src/lib/runtime/cgroup_systemd.c)
$(SYSTEMD_USERS): ALL_CFLAGS += $(shell $(PKG_CONFIG) --cflags libsystemd 2>/dev/null)
$(SYSTEMD_USERS): SAN_CFLAGS += $(shell $(PKG_CONFIG) --cflags libsystemd 2>/dev/null)
$(SYSTEMD_USERS): | check-libsystemd
.PHONY: check-libsystemd
check-libsystemd:
	@$(PKG_CONFIG) --exists libsystemd || { echo "libsystemd's pkg-config file is missing: install libsystemd-dev (scripts/install-deps.sh)" >&2; exit 1; }

$(BUILD)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -c -o $@ $<

$(BUILD)/san/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(SAN_CFLAGS) -c -o $@ $<

# runf-trampoline (src/trampoline): no libc, linked into libruntime as
# bytes (linux/trampoline_blob.c), written into a sealed memfd per container.
TRAMPOLINE = $(BUILD)/trampoline/runf-trampoline
TRAMPOLINE_BLOB = src/lib/runtime/linux/trampoline_blob.o

$(TRAMPOLINE): src/trampoline/trampoline.c src/lib/runtime/linux/sync.h
	@mkdir -p $(dir $@)
	$(CC) -std=gnu11 $(WARNINGS) -O2 -D_GNU_SOURCE -Isrc/lib -static -nostdlib -ffreestanding \
	  -fno-stack-protector -fno-builtin -fno-pie -no-pie -fcf-protection=none \
	  -Wl,--build-id=none -s -o $@ $<

$(BUILD)/obj/$(TRAMPOLINE_BLOB) $(BUILD)/san/$(TRAMPOLINE_BLOB): $(TRAMPOLINE)
$(BUILD)/obj/$(TRAMPOLINE_BLOB): ALL_CFLAGS += -DRF_TRAMPOLINE_PATH='"$(TRAMPOLINE)"'
$(BUILD)/san/$(TRAMPOLINE_BLOB): SAN_CFLAGS += -DRF_TRAMPOLINE_PATH='"$(TRAMPOLINE)"'

# The commit runf is built from, for `runf --version` (runc prints one); the
# stamp changes only with it, so main.o is rebuilt exactly then.
RUNF_COMMIT := $(shell git describe --always --dirty 2>/dev/null || echo unknown)
$(BUILD)/commit: FORCE
	@mkdir -p $(dir $@)
	@echo '$(RUNF_COMMIT)' | cmp -s - $@ || echo '$(RUNF_COMMIT)' >$@
$(BUILD)/obj/src/runf/main.o: $(BUILD)/commit
$(BUILD)/obj/src/runf/main.o: ALL_CFLAGS += -DRUNF_COMMIT='"$(RUNF_COMMIT)"'
FORCE:

# checkpoint and restore speak CRIU's RPC protocol: C code that protoc-c
# generates from the rpc.proto of Debian's criu package, with protobuf-c
# linked statically like runf's other libraries (docs/engines.md).
CRIU_PROTO ?= /usr/include/criu/rpc.proto
CRIU_GEN = $(BUILD)/gen/criu
CRIU_RPC_OBJ = $(BUILD)/obj/gen/criu/rpc.pb-c.o
CRIU_USERS = $(call obj,src/runf/criu.c src/runf/checkpoint.c src/runf/restore.c)
RUNF_LIBS = $(RUNTIME_LIBS) -Wl,-Bstatic $(shell $(PKG_CONFIG) --libs libprotobuf-c) -Wl,-Bdynamic

$(CRIU_GEN)/rpc.pb-c.c: $(wildcard $(CRIU_PROTO))
	@test -r $(CRIU_PROTO) || { echo "$(CRIU_PROTO) is missing: install Debian's criu (scripts/install-deps.sh)" >&2; exit 1; }
	@command -v protoc-c >/dev/null || { echo "protoc-c is missing: install protobuf-c-compiler (scripts/install-deps.sh)" >&2; exit 1; }
	@mkdir -p $(dir $@)
	protoc-c --proto_path=$(dir $(CRIU_PROTO)) --c_out=$(dir $@) $(CRIU_PROTO)
$(CRIU_GEN)/rpc.pb-c.h: $(CRIU_GEN)/rpc.pb-c.c

$(CRIU_RPC_OBJ): $(CRIU_GEN)/rpc.pb-c.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -I$(CRIU_GEN) -c -o $@ $<
$(CRIU_USERS): $(CRIU_GEN)/rpc.pb-c.h
$(CRIU_USERS): ALL_CFLAGS += -I$(CRIU_GEN)

$(BUILD)/bin/runf: $(call obj,$(RUNF_SRCS)) $(CRIU_RPC_OBJ) $(RUNTIME_A)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(BIND_NOW) -o $@ $(filter %.o %.a,$^) $(RUNF_LIBS)

# The CRIU client's pure parts have a unit test of their own.
CRIU_RPC_SANOBJ = $(BUILD)/san/gen/criu/rpc.pb-c.o
CRIU_SANUSERS = $(call sanobj,src/runf/criu.c)
$(CRIU_RPC_SANOBJ): $(CRIU_GEN)/rpc.pb-c.c
	@mkdir -p $(dir $@)
	$(CC) $(SAN_CFLAGS) -I$(CRIU_GEN) -c -o $@ $<
$(CRIU_SANUSERS): $(CRIU_GEN)/rpc.pb-c.h
$(CRIU_SANUSERS): SAN_CFLAGS += -I$(CRIU_GEN)

$(BUILD)/unit/test_runf_criu: tests/unit/test_runf_criu.c $(call obj,src/runf/criu.c) $(CRIU_RPC_OBJ) $(RUNTIME_A)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -Isrc -I$(CRIU_GEN) -o $@ $(filter %.c %.o %.a,$^) $(RUNTIME_LIBS_DYN) $(shell $(PKG_CONFIG) --libs libprotobuf-c) $(CMOCKA_LIBS)

$(BUILD)/unit-san/test_runf_criu: tests/unit/test_runf_criu.c $(CRIU_SANUSERS) $(CRIU_RPC_SANOBJ) $(RUNTIME_SAN_A)
	@mkdir -p $(dir $@)
	$(CC) $(SAN_CFLAGS) -Isrc -I$(CRIU_GEN) -o $@ $(filter %.c %.o %.a,$^) $(RUNTIME_LIBS_DYN) $(shell $(PKG_CONFIG) --libs libprotobuf-c) $(CMOCKA_LIBS)

$(BUILD)/unit/%: tests/unit/%.c $(RUNTIME_A)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -o $@ $(filter %.c %.a,$^) $(RUNTIME_LIBS_DYN) $(CMOCKA_LIBS)

$(BUILD)/unit-san/%: tests/unit/%.c $(RUNTIME_SAN_A)
	@mkdir -p $(dir $@)
	$(CC) $(SAN_CFLAGS) -o $@ $(filter %.c %.a,$^) $(RUNTIME_LIBS_DYN) $(CMOCKA_LIBS)

# Static test programs that run inside the busybox rootfs.
$(BUILD)/helpers/%: tests/helpers/%.c
	@mkdir -p $(dir $@)
	$(CC) -std=gnu11 $(WARNINGS) -O2 -static -o $@ $<

fixtures: $(HELPER_BINS)
	scripts/make-fixtures.sh $(BUILD)/fixtures $(BUILD)/helpers
	scripts/make-python-rootfs.sh $(BUILD)/fixtures/python3-rootfs

deps:
	@scripts/install-deps.sh

unit: $(UNIT_BINS) $(UNIT_SANBINS)

check: deps
	$(MAKE) all unit fixtures examples fuzz-check
	@scripts/run-tests.sh $(BUILD)

# The cgroup tests on a Debian 12 guest with systemd and pure cgroup v2,
# under qemu (KVM where there is one, else TCG: most of an hour here).  Not
# part of check: see docs/cgroups.md for what runs where.
check-vm: deps
	$(MAKE) all fixtures
	@scripts/check-vm.sh $(BUILD)

demo: deps
	$(MAKE) all fixtures examples $(BUILD)/bench/loadgen
	@scripts/demo.sh $(BUILD)

.PHONY: $(BENCHES)
bench: $(BENCHES)

bench-runtime: deps
	$(MAKE) all fixtures $(BUILD)/bench/floor
	@bench/runtime.sh $(BUILD)

install: all
	for p in $(BIN_PROGRAMS); do install -D -m 0755 $(BUILD)/bin/$$p $(DESTDIR)$(PREFIX)/bin/$$p || exit 1; done
	for p in $(HELPER_PROGRAMS); do install -D -m 0755 $(BUILD)/bin/$$p $(DESTDIR)$(PREFIX)/lib/runf/$$p || exit 1; done
	$(MAKE) install-share

clean:
	rm -rf $(BUILD)

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)

# --- images: libimage, runfctl, fuzzing, benchmark --------------------------
# runfctl links libarchive, libcurl and libcrypto dynamically (it is not on
# any hot path); of the runtime it takes only the file that writes runc's
# default config.json (an archive gives a program just what it calls).
IMAGE_PKGS = jansson libarchive libcurl libcrypto zlib
IMAGE_LIBS = $(shell $(PKG_CONFIG) --libs $(IMAGE_PKGS))
RUNFCTL_SRCS = $(wildcard src/runfctl/*.c)
TEMPLATES_GEN = $(BUILD)/gen/templates.c
FUZZ_SRCS = $(wildcard tests/fuzz/fuzz_*.c)
FUZZ_BINS = $(patsubst tests/fuzz/%.c,$(BUILD)/fuzz/%,$(FUZZ_SRCS))
FUZZ_CC ?= clang
FUZZ_CFLAGS = -std=gnu11 -g -O1 -D_GNU_SOURCE -Isrc/lib -fsanitize=fuzzer-no-link,address,undefined
FUZZ_SECONDS ?= 20

.PHONY: fuzz fuzz-build bench-image

# Stack files are read with libyaml: runfctl's alone.
$(BUILD)/bin/runfctl: $(call obj,$(RUNFCTL_SRCS)) $(BUILD)/obj/$(TEMPLATES_GEN:.c=.o) $(IMAGE_A)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -o $@ $(filter %.o %.a,$^) $(IMAGE_LIBS) $(shell $(PKG_CONFIG) --libs yaml-0.1)

# `runfctl fn new`'s templates are compiled in from share/runf/templates.
$(TEMPLATES_GEN): $(wildcard share/runf/templates/*/*) scripts/embed-templates.sh
	@mkdir -p $(dir $@)
	scripts/embed-templates.sh share/runf/templates >$@

$(BUILD)/obj/$(TEMPLATES_GEN:.c=.o): $(TEMPLATES_GEN)
	@mkdir -p $(dir $@)
	$(CC) -std=gnu11 -O2 -Isrc -c -o $@ $<

# The image unit tests link libimage (these rules win over the generic ones:
# their stem is shorter).
$(BUILD)/unit/test_image_%: tests/unit/test_image_%.c $(IMAGE_A)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -o $@ $(filter %.c %.a,$^) $(IMAGE_LIBS) $(CMOCKA_LIBS)

$(BUILD)/unit-san/test_image_%: tests/unit/test_image_%.c $(IMAGE_SAN_A)
	@mkdir -p $(dir $@)
	$(CC) $(SAN_CFLAGS) -o $@ $(filter %.c %.a,$^) $(IMAGE_LIBS) $(CMOCKA_LIBS)

# libFuzzer's targets (clang): the libraries compiled once more with its
# coverage instrumentation.  The spec parser's target also takes the
# runtime's parsing files (seccomp profiles are compiled there, hence
# libseccomp) and the systemd driver's annotation reader; the rest of the
# runtime is left out (the trampoline's blob
# wants a build of its own).
fuzzobj = $(patsubst %.c,$(BUILD)/fuzzobj/%.o,$(1))
FUZZ_SPEC_SRCS = $(addprefix src/lib/runtime/,spec.c spec_extra.c resources.c seccomp.c hooks.c \
                   mountopts.c capnames.c linux/sync.c spec_default.c systemd_props.c)
$(BUILD)/libcommon-fuzz.a: $(call fuzzobj,$(COMMON_SRCS))
$(BUILD)/libruntime-fuzz.a: $(call fuzzobj,$(FUZZ_SPEC_SRCS))
$(BUILD)/libimage-fuzz.a: $(call fuzzobj,$(IMAGE_SRCS))

$(BUILD)/fuzzobj/%.o: %.c
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -MMD -MP -c -o $@ $<

$(BUILD)/fuzz/%: tests/fuzz/%.c $(BUILD)/libimage-fuzz.a $(BUILD)/libruntime-fuzz.a $(BUILD)/libcommon-fuzz.a
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer -o $@ $(filter %.c %.a,$^) $(IMAGE_LIBS) \
	  $(shell $(PKG_CONFIG) --libs libseccomp)

fuzz-build: $(FUZZ_BINS)

# `make check` builds the same targets with $(CC) under ASan+UBSan, each
# with a main that hands it files (tests/fuzz/replay.c), from the unit
# tests' libraries, and replays the seed corpus through them: they keep
# building, and the seeds keep passing, where clang is not installed.
FUZZ_CHECK_BINS = $(patsubst tests/fuzz/%.c,$(BUILD)/fuzz-check/%,$(FUZZ_SRCS))
$(BUILD)/fuzz-check/%: tests/fuzz/%.c tests/fuzz/replay.c $(IMAGE_SAN_A)
	@mkdir -p $(dir $@)
	$(CC) $(SAN_CFLAGS) -o $@ $(filter %.c %.a,$^) $(IMAGE_LIBS) $(RUNTIME_LIBS_DYN)

fuzz-check: $(FUZZ_CHECK_BINS)
	@for bin in $(FUZZ_CHECK_BINS); do \
	  name=$$(basename $$bin); \
	  ASAN_OPTIONS=detect_leaks=1 $$bin tests/fuzz/corpus/$$name || exit 1; \
	done

# Each target runs FUZZ_SECONDS from its seed corpus (copied: the fuzzer
# adds to the corpus it is given).
fuzz: deps
	$(MAKE) fuzz-build
	@scripts/run-fuzz.sh $(BUILD) $(FUZZ_SECONDS)

bench-image: deps
	$(MAKE) all
	@bench/image.sh $(BUILD)

# --- runfd: the function daemon ----------------------------------------------
# It links the runtime library (for its spawner) and the image library (for
# deploys); the default seccomp profile of function instances is compiled in
# from share/runf/seccomp-functions.json.
# The spawner is a program of its own with few mappings: each container's
# init is a fork of it.
SPAWNER_SRCS = src/runfd/spawner_main.c src/runfd/spawn_proto.c
RUNFD_SRCS = $(filter-out src/runfd/spawner_main.c,$(wildcard src/runfd/*.c))
SECCOMP_GEN = $(BUILD)/gen/seccomp_functions.c
# The dashboard's page, compiled in as the seccomp profile is.
DASHBOARD_GEN = $(BUILD)/gen/dashboard_html.c

$(SECCOMP_GEN): share/runf/seccomp-functions.json
	@mkdir -p $(dir $@)
	{ printf 'const char rfd_default_seccomp[] =\n'; \
	  sed 's/\\/\\\\/g; s/"/\\"/g; s/^/  "/; s/$$/\\n"/' $<; printf ';\n'; } >$@

$(BUILD)/obj/$(SECCOMP_GEN:.c=.o): $(SECCOMP_GEN)
	@mkdir -p $(dir $@)
	$(CC) -std=gnu11 -O2 -c -o $@ $<

$(DASHBOARD_GEN): share/runf/dashboard.html
	@mkdir -p $(dir $@)
	{ printf 'const char rfd_dashboard_html[] =\n'; \
	  sed 's/\\/\\\\/g; s/"/\\"/g; s/^/  "/; s/$$/\\n"/' $<; printf ';\n'; } >$@

$(BUILD)/obj/$(DASHBOARD_GEN:.c=.o): $(DASHBOARD_GEN)
	@mkdir -p $(dir $@)
	$(CC) -std=gnu11 -O2 -c -o $@ $<

$(BUILD)/bin/runfd: $(call obj,$(RUNFD_SRCS)) $(BUILD)/obj/$(SECCOMP_GEN:.c=.o) \
                    $(BUILD)/obj/$(DASHBOARD_GEN:.c=.o) $(IMAGE_A)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(BIND_NOW) -o $@ $(filter %.o %.a,$^) $(RUNTIME_LIBS_DYN) $(IMAGE_LIBS) -lm

# runfd's unit tests: its pure parts (the deploy request and the config,
# the worker's fork), each linked alone with the runtime library.  Static
# pattern rules, so that they win over the generic ones even in a clean
# tree (an implicit rule whose objects no target names yet would lose to
# the generic rule, which then lacks -Isrc and the objects).
RUNFD_UNIT_SRCS = src/runfd/fnspec.c src/runfd/worker.c
RUNFD_UNIT_TESTS = $(patsubst tests/unit/%.c,%,$(wildcard tests/unit/test_runfd_*.c))

$(BUILD)/san/$(SECCOMP_GEN:.c=.o): $(SECCOMP_GEN)
	@mkdir -p $(dir $@)
	$(CC) -std=gnu11 -O1 -c -o $@ $<

$(addprefix $(BUILD)/unit/,$(RUNFD_UNIT_TESTS)): $(BUILD)/unit/%: tests/unit/%.c $(call obj,$(RUNFD_UNIT_SRCS)) \
    $(BUILD)/obj/$(SECCOMP_GEN:.c=.o) $(RUNTIME_A)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -Isrc -o $@ $(filter %.c %.o %.a,$^) $(RUNTIME_LIBS_DYN) $(CMOCKA_LIBS) -lm

$(addprefix $(BUILD)/unit-san/,$(RUNFD_UNIT_TESTS)): $(BUILD)/unit-san/%: tests/unit/%.c $(call sanobj,$(RUNFD_UNIT_SRCS)) \
    $(BUILD)/san/$(SECCOMP_GEN:.c=.o) $(RUNTIME_SAN_A)
	@mkdir -p $(dir $@)
	$(CC) $(SAN_CFLAGS) -Isrc -o $@ $(filter %.c %.o %.a,$^) $(RUNTIME_LIBS_DYN) $(CMOCKA_LIBS) -lm

# The spawner is linked statically (still position-independent, so still
# randomized): every fresh container's init is a fork of it, and without
# ld.so and libc.so the fork copies fewer mappings and the init, until its
# exec, faults in fewer pages.  bench/faas-ab.sh, 8 connections, 4 rounds:
# 278-290 requests/s dynamic, 301-340 static (issue 17).
$(BUILD)/bin/runfd-spawner: $(call obj,$(SPAWNER_SRCS)) $(RUNTIME_A)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -static-pie $(BIND_NOW) -o $@ $(filter %.o %.a,$^) \
	  $(shell $(PKG_CONFIG) --libs --static $(RUNTIME_PKGS))

# --- functions: the stdio shim, the example handlers, the naive baseline ----
# The shim and the examples run inside containers whose images have no libc
# of their own, so they are linked statically.
SHIM_OBJS = $(call obj,src/shim/shim.c src/lib/common/http.c)
STATIC_CFLAGS = -std=gnu11 $(WARNINGS) -O2 -static
# The example handlers are linked with musl where it is installed: a static
# glibc program starts by asking the CPU about itself (cpuid, which traps in
# a VM), and that was a fifth of each fresh-container request (1069 → 1326
# requests/s with bench/faas-ab.sh, 3 rounds).
EXAMPLE_CC := $(or $(shell command -v musl-gcc 2>/dev/null),$(CC))
EXAMPLE_BINS = $(BUILD)/examples/bin/hello $(BUILD)/examples/bin/control-handler
EXAMPLE_IMAGES = $(addprefix $(BUILD)/examples/,hello.tar control.tar stdio.tar)
PYTHON_IMAGES = $(addprefix $(BUILD)/examples/,python-http.tar python-control.tar)
BENCH_BINS = $(BUILD)/bench/loadgen $(BUILD)/bench/naive_faas $(BUILD)/bench/floor

.PHONY: examples bench-faas bench-faas-naive

$(BUILD)/bin/runf-shim: $(SHIM_OBJS)
	@mkdir -p $(dir $@)
	$(CC) -static -o $@ $^

$(BUILD)/examples/bin/hello: examples/hello/hello.c
	@mkdir -p $(dir $@)
	$(EXAMPLE_CC) $(STATIC_CFLAGS) -pthread -o $@ $<

$(BUILD)/examples/bin/control-handler: examples/control/handler.c
	@mkdir -p $(dir $@)
	$(EXAMPLE_CC) $(STATIC_CFLAGS) -o $@ $<

# One image per example, each a `docker save` archive (and its rootfs).
$(BUILD)/examples/%.tar: $(EXAMPLE_BINS) examples/stdio/handler.sh scripts/make-example-image.sh \
                         tests/integration/image/mkimage.py
	scripts/make-example-image.sh $(BUILD) $*

# The Python examples, from the host's python3 with precompiled .pyc: both
# images at once, since they share one base layer.
$(PYTHON_IMAGES) &: examples/python/function.py examples/python/server.py \
                    examples/python-http/handler.py examples/python-control/handler.py \
                    scripts/make-python-image.sh \
                    scripts/make-python-rootfs.sh tests/integration/image/mkimage.py \
                    $(realpath /usr/bin/python3)
	scripts/make-python-image.sh $(BUILD)

examples: $(EXAMPLE_IMAGES) $(PYTHON_IMAGES)

$(BUILD)/bench/%: bench/%.c
	@mkdir -p $(dir $@)
	$(CC) -std=gnu11 $(WARNINGS) -O2 -o $@ $<

bench-faas-naive: deps
	$(MAKE) examples $(BENCH_BINS)
	@bench/faas-naive.sh $(BUILD)

# runfd in inetd and warm modes, the floor (bench/floor.c, on the rootfs
# fixture) and the naive baseline, in one run.
bench-faas: deps
	$(MAKE) all fixtures examples $(BENCH_BINS)
	@bench/faas.sh $(BUILD)

# runfd under a log flood and OOM kills (bench/soak.sh).
.PHONY: bench-soak
bench-soak: deps
	$(MAKE) all fixtures $(BUILD)/bench/loadgen
	@bench/soak.sh $(BUILD)

# --- running it: man pages, bash completion, systemd units --------------------
# runfctl(1)'s commands and options come from runfctl's own tables; the
# units name the installed binaries.
MANDIR ?= $(PREFIX)/share/man
BASHCOMPDIR ?= $(PREFIX)/share/bash-completion/completions
SYSTEMD_UNITDIR ?= $(PREFIX)/lib/systemd/system
SYSTEMD_USERUNITDIR ?= $(PREFIX)/lib/systemd/user
SHARE_OUT = $(BUILD)/share/man/runfctl.1 $(BUILD)/share/man/runf.8 $(BUILD)/share/man/runfd.8 \
            $(BUILD)/share/systemd/runfd.service $(BUILD)/share/systemd/user/runfd.service \
            $(BUILD)/share/systemd/runfd.socket $(BUILD)/share/systemd/user/runfd.socket \
            $(BUILD)/share/options/runf.txt $(BUILD)/share/options/runfd.txt \
            $(addprefix $(BUILD)/share/bash-completion/,runf runfctl runfd)

.PHONY: share
share: $(SHARE_OUT)

$(BUILD)/share/man/runfctl.1: man/runfctl.1.in $(BUILD)/bin/runfctl
	@mkdir -p $(dir $@)
	$(BUILD)/bin/runfctl __man >$@.commands
	sed -e '/^@COMMANDS@$$/{r $@.commands' -e 'd}' man/runfctl.1.in >$@
	@rm -f $@.commands

$(BUILD)/share/man/%.8: man/%.8
	@mkdir -p $(dir $@)
	cp $< $@

$(BUILD)/share/systemd/%: share/systemd/%.in
	@mkdir -p $(dir $@)
	sed 's|@BINDIR@|$(PREFIX)/bin|g' $< >$@

$(BUILD)/share/systemd/%.socket: share/systemd/%.socket
	@mkdir -p $(dir $@)
	cp $< $@

$(BUILD)/share/bash-completion/%: share/bash-completion/%
	@mkdir -p $(dir $@)
	cp $< $@

# What the programs accept, from their sources, for the tests.
$(BUILD)/share/options/runf.txt: $(RUNF_SRCS) scripts/list-options.sh
	@mkdir -p $(dir $@)
	scripts/list-options.sh runf . >$@

$(BUILD)/share/options/runfd.txt: src/runfd/main.c scripts/list-options.sh
	@mkdir -p $(dir $@)
	scripts/list-options.sh runfd . >$@

.PHONY: install-share
install-share: share
	install -D -m 0644 $(BUILD)/share/man/runf.8 $(DESTDIR)$(MANDIR)/man8/runf.8
	install -D -m 0644 $(BUILD)/share/man/runfd.8 $(DESTDIR)$(MANDIR)/man8/runfd.8
	install -D -m 0644 $(BUILD)/share/man/runfctl.1 $(DESTDIR)$(MANDIR)/man1/runfctl.1
	install -D -m 0644 $(BUILD)/share/bash-completion/runf $(DESTDIR)$(BASHCOMPDIR)/runf
	install -D -m 0644 $(BUILD)/share/bash-completion/runfctl $(DESTDIR)$(BASHCOMPDIR)/runfctl
	install -D -m 0644 $(BUILD)/share/bash-completion/runfd $(DESTDIR)$(BASHCOMPDIR)/runfd
	@# The units name this install's runfd (build/share's, the default PREFIX's).
	install -d $(DESTDIR)$(SYSTEMD_UNITDIR) $(DESTDIR)$(SYSTEMD_USERUNITDIR)
	sed 's|@BINDIR@|$(PREFIX)/bin|g' share/systemd/runfd.service.in >$(DESTDIR)$(SYSTEMD_UNITDIR)/runfd.service
	sed 's|@BINDIR@|$(PREFIX)/bin|g' share/systemd/user/runfd.service.in >$(DESTDIR)$(SYSTEMD_USERUNITDIR)/runfd.service
	install -m 0644 share/systemd/runfd.socket $(DESTDIR)$(SYSTEMD_UNITDIR)/runfd.socket
	install -m 0644 share/systemd/user/runfd.socket $(DESTDIR)$(SYSTEMD_USERUNITDIR)/runfd.socket
	chmod 0644 $(DESTDIR)$(SYSTEMD_UNITDIR)/runfd.service $(DESTDIR)$(SYSTEMD_USERUNITDIR)/runfd.service
