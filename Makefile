# hull — build, test, install.  `make help` lists the targets.
#
# Sources are picked up by directory, so adding a file to a module needs no
# Makefile change:  lib/ oci/ cgroups/ rootfs/ netns/ runtime/ microvm/ make
# the `hull` binary; rootfs/image/ makes hull-image.so (libarchive, libcurl and
# libcrypto are loaded only by image commands, so container start never pays
# for them); microvm/guest/ makes the static guest agent.

CC      ?= gcc
PREFIX  ?= /usr/local
DESTDIR ?=
SAN     ?=
V       ?=

ifeq ($(SAN),1)
BUILD   ?= build-san
SANFLAGS := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
else
BUILD   ?= build
SANFLAGS :=
endif

Q := $(if $(V),,@)
PKGS_CORE  := libseccomp libcap yajl
PKGS_IMAGE := libarchive libcurl libcrypto

CFLAGS   ?= -O2 -g
CFLAGS   += -std=gnu11 -Wall -Wextra -Werror -Wno-unused-parameter -fno-strict-aliasing \
            -fstack-protector-strong -fPIC -I. $(SANFLAGS)
CPPFLAGS += -D_GNU_SOURCE -D_FORTIFY_SOURCE=2 -DHULL_VERSION=\"$(VERSION)\" \
            -DHULL_LIBDIR=\"$(PREFIX)/lib/hull\"
LDFLAGS  += $(SANFLAGS) -Wl,--as-needed -Wl,-z,relro -Wl,-z,now

VERSION := $(shell cat VERSION 2>/dev/null || echo 0.1.0)

# Static libseccomp/libcap/yajl: fewer shared objects to map and relocate on
# every `hull create`, which is most of a short-lived CLI's start cost.
CORE_LIBS  := -Wl,-Bstatic -lseccomp -lcap -l:libyajl_s.a -Wl,-Bdynamic -ldl -lpthread
IMAGE_LIBS := $(shell pkg-config --libs $(PKGS_IMAGE) 2>/dev/null)

CORE_DIRS := lib oci cgroups rootfs netns runtime microvm microvm/virtio
CORE_SRCS := $(sort $(foreach d,$(CORE_DIRS),$(wildcard $(d)/*.c)))
MAIN_SRC  := runtime/main.c
LIB_SRCS  := $(filter-out $(MAIN_SRC),$(CORE_SRCS))
IMAGE_SRCS := $(sort $(wildcard rootfs/image/*.c))
AGENT_SRCS := $(sort $(wildcard microvm/guest/*.c))
UNIT_SRCS := $(sort $(wildcard tests/unit/test_*.c))
FUZZ_SRCS := $(sort $(wildcard tests/fuzz/fuzz_*.c))

LIB_OBJS   := $(LIB_SRCS:%.c=$(BUILD)/obj/%.o)
MAIN_OBJ   := $(MAIN_SRC:%.c=$(BUILD)/obj/%.o)
IMAGE_OBJS := $(IMAGE_SRCS:%.c=$(BUILD)/obj/%.o)
AGENT_OBJS := $(AGENT_SRCS:%.c=$(BUILD)/agent/%.o)
UNIT_BINS  := $(UNIT_SRCS:tests/unit/%.c=$(BUILD)/tests/%)

HULL       := $(BUILD)/hull
LIBHULL    := $(BUILD)/libhull.a
IMAGE_SO   := $(if $(IMAGE_SRCS),$(BUILD)/hull-image.so)
AGENT      := $(if $(AGENT_SRCS),$(BUILD)/hull-agent)

.PHONY: all deps demo check check-unit check-integration check-conformance check-security \
        check-clients check-testhost check-san bench install uninstall clean help guest-kernel fuzz

all: $(HULL) $(IMAGE_SO) $(AGENT)

$(BUILD)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(if $(Q),@echo "  CC      $<")
	$(Q)$(CC) $(CPPFLAGS) $(CFLAGS) $(shell pkg-config --cflags $(PKGS_CORE)) -MMD -MP -c $< -o $@

$(BUILD)/obj/rootfs/image/%.o: rootfs/image/%.c
	@mkdir -p $(dir $@)
	$(if $(Q),@echo "  CC      $<")
	$(Q)$(CC) $(CPPFLAGS) $(CFLAGS) $(shell pkg-config --cflags $(PKGS_CORE) $(PKGS_IMAGE)) -MMD -MP -c $< -o $@

$(LIBHULL): $(LIB_OBJS)
	$(if $(Q),@echo "  AR      $@")
	$(Q)rm -f $@ && ar rcs $@ $^

$(HULL): $(MAIN_OBJ) $(LIBHULL)
	$(if $(Q),@echo "  LD      $@")
	$(Q)$(CC) $(LDFLAGS) -o $@ $(MAIN_OBJ) -Wl,--whole-archive $(LIBHULL) -Wl,--no-whole-archive $(CORE_LIBS)

# The binary exports no symbols, so the plugin links its own copy of the
# lib/ and oci/ helpers it uses (only those members of the archive), and yajl.
$(BUILD)/hull-image.so: $(IMAGE_OBJS) $(LIBHULL) rootfs/image/plugin.map
	$(if $(Q),@echo "  LD      $@")
	$(Q)$(CC) -shared $(LDFLAGS) -Wl,--version-script=rootfs/image/plugin.map -o $@ $(IMAGE_OBJS) $(LIBHULL) \
		$(IMAGE_LIBS) -lyajl -lpthread

# The guest agent is PID 1 inside the VM: static, no sanitizers, no host libs.
$(BUILD)/agent/%.o: %.c
	@mkdir -p $(dir $@)
	$(if $(Q),@echo "  CC      $< (agent)")
	$(Q)$(CC) $(CPPFLAGS) -O2 -std=gnu11 -Wall -Wextra -Werror -Wno-unused-parameter -I. -MMD -MP -c $< -o $@

$(BUILD)/hull-agent: $(AGENT_OBJS)
	$(if $(Q),@echo "  LD      $@ (static)")
	$(Q)$(CC) -static -o $@ $^

$(BUILD)/tests/%: tests/unit/%.c $(LIBHULL) $(IMAGE_OBJS)
	@mkdir -p $(dir $@)
	$(if $(Q),@echo "  CC      $<")
	$(Q)$(CC) $(CPPFLAGS) $(CFLAGS) $(shell pkg-config --cflags $(PKGS_CORE) $(PKGS_IMAGE) cmocka) -o $@ $< \
		$(IMAGE_OBJS) $(LIBHULL) $(LDFLAGS) $(CORE_LIBS) $(IMAGE_LIBS) -lcmocka

deps:
	@sh .ci/install-deps.sh

check-unit: $(UNIT_BINS)
	@sh tests/unit/run.sh $(UNIT_BINS)

check-integration: all
	@HULL=$(abspath $(HULL)) bash tests/integration/run.sh

check-conformance: all
	@HULL=$(abspath $(HULL)) bash tests/conformance/run.sh

check-security: all
	@HULL=$(abspath $(HULL)) bash tests/security/run.sh

check-clients: all
	@HULL=$(abspath $(HULL)) bash tests/clients/run.sh

check-testhost: all guest-kernel
	@HULL=$(abspath $(HULL)) BUILD=$(abspath $(BUILD)) bash tests/testhost/run.sh

check-san:
	@$(MAKE) --no-print-directory SAN=1 check-unit

# Everything CI runs; ends with one "N passed, N failed" line.
check: deps
	@$(MAKE) --no-print-directory all
	@BUILD=$(abspath $(BUILD)) HULL=$(abspath $(HULL)) MAKE="$(MAKE)" bash tests/run-all.sh

bench: deps all
	@HULL=$(abspath $(HULL)) bash bench/run.sh

demo: deps all
	@HULL=$(abspath $(HULL)) bash examples/demo.sh

fuzz:
	@BUILD=$(abspath $(BUILD)) bash tests/fuzz/run.sh

# The microVM guest kernel (Debian's linux-source-6.1 + microvm/guest/kernel.config),
# cached in $(HULL_KERNEL_CACHE) (default /var/cache/hull/guest-kernel).
guest-kernel:
	@bash microvm/guest/build-kernel.sh $(abspath $(BUILD))/guest

install: all
	install -D -m 0755 $(HULL) $(DESTDIR)$(PREFIX)/bin/hull
	ln -sf hull $(DESTDIR)$(PREFIX)/bin/hull-vm
	$(if $(IMAGE_SO),install -D -m 0644 $(IMAGE_SO) $(DESTDIR)$(PREFIX)/lib/hull/hull-image.so)
	$(if $(AGENT),install -D -m 0755 $(AGENT) $(DESTDIR)$(PREFIX)/lib/hull/hull-agent)
	$(if $(wildcard $(BUILD)/guest/vmlinux),install -D -m 0644 $(BUILD)/guest/vmlinux $(DESTDIR)$(PREFIX)/lib/hull/vmlinux)
	@for f in man/*.8; do [ -f "$$f" ] && install -D -m 0644 "$$f" "$(DESTDIR)$(PREFIX)/share/man/man8/$$(basename $$f)"; done; true

uninstall:
	rm -f $(DESTDIR)$(PREFIX)/bin/hull $(DESTDIR)$(PREFIX)/bin/hull-vm
	rm -rf $(DESTDIR)$(PREFIX)/lib/hull
	rm -f $(DESTDIR)$(PREFIX)/share/man/man8/hull*.8

clean:
	rm -rf build build-san

help:
	@echo "make               build $(HULL)"
	@echo "make demo          install deps, build, run a container from examples/"
	@echo "make check         install deps, build, run every test suite (CI)"
	@echo "make check-unit    cmocka unit tests    (SAN=1: with ASan+UBSan)"
	@echo "make check-integration | check-conformance | check-security | check-clients | check-testhost"
	@echo "make bench         hull vs crun vs runc, side by side"
	@echo "make install PREFIX=/usr/local"

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
