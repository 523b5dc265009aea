# asd: build, install and test. `make` builds a release binary with the Swift standard
# library linked statically, so the installed binary runs without a Swift toolchain.
#
#   make                                  build .build/release/asd
#   make install DESTDIR=/tmp/x           install (no root needed with a DESTDIR)
#   make install-cron                     hourly cron job, for systems without systemd
#   make uninstall                        remove what install put (keeps a modified asd.conf)
#   make check                            unit and integration tests (swift test)
#   make boot-test                        boot a Debian container with asd (root only)
#   make powerloss-test                   cut the power of a QEMU guest running asd (root only)

PN          = anything-sync-daemon
PREFIX     ?= /usr
DESTDIR    ?=
BINDIR     ?= $(PREFIX)/bin
CONFDIR    ?= /etc
SYSTEMDDIR ?= $(PREFIX)/lib/systemd/system
MANDIR     ?= $(PREFIX)/share/man/man1
BASHCOMPDIR ?= $(PREFIX)/share/bash-completion/completions
ZSHCOMPDIR ?= $(PREFIX)/share/zsh/site-functions
CRONDIR    ?= /etc/cron.hourly

SWIFT      ?= swift
SWIFTFLAGS ?=
INSTALL    ?= install
BUILDDIR   ?= .build
RELEASEBIN  = $(BUILDDIR)/release/asd

UNITS       = asd.service asd-resync.service asd-resync.timer
SOURCES     = Package.swift $(shell find Sources -name '*.swift' 2>/dev/null)

.PHONY: all build install install-bin install-config install-systemd install-man \
	install-completion install-cron uninstall uninstall-cron check boot-test powerloss-test clean

all: build

build: $(RELEASEBIN)

# Rebuilt only when a source changed, so `make install` after `make` does not compile.
$(RELEASEBIN): $(SOURCES)
	$(SWIFT) build -c release --static-swift-stdlib --product asd \
		--scratch-path $(BUILDDIR) $(SWIFTFLAGS)
	@touch $@

install: install-bin install-config install-systemd install-man install-completion

install-bin: $(RELEASEBIN)
	$(INSTALL) -d "$(DESTDIR)$(BINDIR)"
	$(INSTALL) -m 0755 $(RELEASEBIN) "$(DESTDIR)$(BINDIR)/asd"
	ln -sf asd "$(DESTDIR)$(BINDIR)/$(PN)"

# Never overwrites an existing config: an upgrade keeps the user's settings.
install-config:
	$(INSTALL) -d "$(DESTDIR)$(CONFDIR)"
	@if [ ! -f config/asd.conf ]; then \
		echo "warning: config/asd.conf is missing; no $(CONFDIR)/asd.conf installed" >&2; \
	elif [ -e "$(DESTDIR)$(CONFDIR)/asd.conf" ]; then \
		echo "keeping existing $(DESTDIR)$(CONFDIR)/asd.conf"; \
	else \
		echo "$(INSTALL) -m 0644 config/asd.conf $(DESTDIR)$(CONFDIR)/asd.conf"; \
		$(INSTALL) -m 0644 config/asd.conf "$(DESTDIR)$(CONFDIR)/asd.conf"; \
	fi

install-systemd:
	$(INSTALL) -d "$(DESTDIR)$(SYSTEMDDIR)"
	$(INSTALL) -m 0644 $(addprefix systemd/,$(UNITS)) "$(DESTDIR)$(SYSTEMDDIR)/"

install-man:
	$(INSTALL) -d "$(DESTDIR)$(MANDIR)"
	$(INSTALL) -m 0644 doc/asd.1 "$(DESTDIR)$(MANDIR)/asd.1"
	ln -sf asd.1 "$(DESTDIR)$(MANDIR)/$(PN).1"

install-completion:
	$(INSTALL) -d "$(DESTDIR)$(BASHCOMPDIR)" "$(DESTDIR)$(ZSHCOMPDIR)"
	$(INSTALL) -m 0644 contrib/completion/asd.bash "$(DESTDIR)$(BASHCOMPDIR)/asd"
	ln -sf asd "$(DESTDIR)$(BASHCOMPDIR)/$(PN)"
	$(INSTALL) -m 0644 contrib/completion/_asd "$(DESTDIR)$(ZSHCOMPDIR)/_asd"

# Not part of `install`: under systemd the hourly asd-resync.timer does this job.
install-cron:
	$(INSTALL) -d "$(DESTDIR)$(CRONDIR)"
	$(INSTALL) -m 0755 contrib/asd.cron.hourly "$(DESTDIR)$(CRONDIR)/asd-update"

uninstall: uninstall-cron
	rm -f "$(DESTDIR)$(BINDIR)/asd" "$(DESTDIR)$(BINDIR)/$(PN)"
	rm -f $(addprefix "$(DESTDIR)$(SYSTEMDDIR)"/,$(UNITS))
	rm -f "$(DESTDIR)$(MANDIR)/asd.1" "$(DESTDIR)$(MANDIR)/$(PN).1"
	rm -f "$(DESTDIR)$(BASHCOMPDIR)/asd" "$(DESTDIR)$(BASHCOMPDIR)/$(PN)"
	rm -f "$(DESTDIR)$(ZSHCOMPDIR)/_asd"
	@if [ -f config/asd.conf ] && cmp -s config/asd.conf "$(DESTDIR)$(CONFDIR)/asd.conf"; then \
		echo "rm -f $(DESTDIR)$(CONFDIR)/asd.conf"; rm -f "$(DESTDIR)$(CONFDIR)/asd.conf"; \
	elif [ -e "$(DESTDIR)$(CONFDIR)/asd.conf" ]; then \
		echo "keeping modified $(DESTDIR)$(CONFDIR)/asd.conf"; \
	fi

uninstall-cron:
	rm -f "$(DESTDIR)$(CRONDIR)/asd-update"

# Integration tests skip themselves when not root; CI sets ASD_REQUIRE_PRIVILEGED=1
# so that a skip becomes a failure there.
# The failures are repeated at the end, where a CI log's tail shows them.
check:
	$(SWIFT) build --scratch-path $(BUILDDIR) $(SWIFTFLAGS)
	@( $(SWIFT) test --scratch-path $(BUILDDIR) $(SWIFTFLAGS) 2>&1; echo $$? >$(BUILDDIR)/test-status ) \
		| tee $(BUILDDIR)/test.log; \
	status=$$(cat $(BUILDDIR)/test-status); \
	if [ "$$status" != 0 ]; then \
		echo "== failures (whole log: $(BUILDDIR)/test.log)"; \
		grep -A8 -e '✘.*recorded an issue' -e 'error: ' $(BUILDDIR)/test.log | head -n 300; \
	fi; \
	exit $$status

boot-test: $(RELEASEBIN)
	Tests/systemd/boot-test.sh

# Power loss in a VM (the guest's page cache is lost); ASD_POWERLOSS_ROUNDS=N for more
# rounds, ASD_POWERLOSS_ENGINE=rsync for the rsync engine. See Tests/powerloss/README.md.
powerloss-test: $(RELEASEBIN)
	Tests/powerloss/rig.py

clean:
	rm -rf $(BUILDDIR)
