# asd: build, install and test. `make` builds a release binary with the Swift standard
# library linked statically, so the installed binary runs without a Swift toolchain.
#
#   make                                  build .build/release/asd
#   make install DESTDIR=/tmp/x           install (no root needed with a DESTDIR)
#   make install-cron                     hourly cron job, for systems without systemd
#   make uninstall                        remove what install put (keeps a modified asd.conf)
#   make check                            unit and integration tests (swift test), the
#                                         integration tests on both copiers
#   make deb                              Debian package in .build/deb/ (dpkg-buildpackage -b)
#   make boot-test                        boot a Debian container with the package, then a
#                                         QEMU guest with it and zram-tools (root only)
#   make powerloss-test                   cut the power of a QEMU guest running asd (root only)
#   make powerloss-watch-test             the same under `asd watch` with RESYNC_DELAY=10:
#                                         what a cut loses (root only)

PN          = anything-sync-daemon
PREFIX     ?= /usr
DESTDIR    ?=
BINDIR     ?= $(PREFIX)/bin
CONFDIR    ?= /etc
SYSTEMDDIR ?= $(PREFIX)/lib/systemd/system
GENERATORDIR ?= $(PREFIX)/lib/systemd/system-generators
MANDIR     ?= $(PREFIX)/share/man/man1
BASHCOMPDIR ?= $(PREFIX)/share/bash-completion/completions
ZSHCOMPDIR ?= $(PREFIX)/share/zsh/site-functions
CRONDIR    ?= /etc/cron.hourly

SWIFT      ?= swift
SWIFTFLAGS ?=
INSTALL    ?= install
BUILDDIR   ?= .build
RELEASEBIN  = $(BUILDDIR)/release/asd

UNITS       = asd.service asd-resync.service asd-resync.timer asd-sleep.service asd-watch.service
SOURCES     = Package.swift $(shell find Sources -name '*.swift' -o -name '*.[ch]' 2>/dev/null)

.PHONY: all build install install-bin install-config install-systemd install-generator install-man \
	install-completion install-cron uninstall uninstall-cron check deb boot-test powerloss-test powerloss-watch-test clean

all: build

build: $(RELEASEBIN)

# Rebuilt only when a source changed, so `make install` after `make` does not compile.
$(RELEASEBIN): $(SOURCES)
	$(SWIFT) build -c release --static-swift-stdlib --product asd \
		--scratch-path $(BUILDDIR) $(SWIFTFLAGS)
	@touch $@

install: install-bin install-config install-systemd install-generator install-man install-completion

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

# The generator is the asd binary under another name (see asd(1), SYSTEMD).
install-generator:
	$(INSTALL) -d "$(DESTDIR)$(GENERATORDIR)"
	ln -sf $(BINDIR)/asd "$(DESTDIR)$(GENERATORDIR)/asd-generator"

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
	rm -f "$(DESTDIR)$(GENERATORDIR)/asd-generator"
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
# Three passes: every test with the built-in copier; the integration suite again with
# the rsync copier (ASD_TEST_ENGINE=rsync: the configs the tests write set
# USE_RSYNC=always, rsync on every fixture; RaceAttackTests sets USE_RSYNC=yes, which must
# keep rsync off the attacker's tree); DeltaCrashTests, CloneOrderTests and dataFlushedBeforeRename stay
# built-in: the delta write-back and the temp names the trace is read for are the
# built-in copier's own);
# then the differential test, which runs both copiers itself, on its
# own (it is long, and timing-sensitive tests of the other suites must not share the
# CPUs with it).
# The failures are repeated at the end, where a CI log's tail shows them.
CHECK_PASSES = builtin:--skip=DifferentialTests \
	rsync:--filter=ASDIntegrationTests:--skip=DifferentialTests:--skip=DeltaCrashTests:--skip=CloneOrderTests:--skip=dataFlushedBeforeRename \
	differential:--filter=DifferentialTests

check:
	$(SWIFT) build --scratch-path $(BUILDDIR) $(SWIFTFLAGS)
	@: >$(BUILDDIR)/test.log; failed=""; \
	for pass in $(CHECK_PASSES); do \
		name=$${pass%%:*}; args=$$(echo "$${pass#*:}" | tr ':' ' '); \
		echo "== test pass '$$name': swift test $$args" | tee -a $(BUILDDIR)/test.log; \
		engine=builtin; [ "$$name" = rsync ] && engine=rsync; \
		( ASD_TEST_ENGINE=$$engine $(SWIFT) test --scratch-path $(BUILDDIR) $(SWIFTFLAGS) $$args 2>&1; \
			echo $$? >$(BUILDDIR)/test-status ) | tee -a $(BUILDDIR)/test.log; \
		[ "$$(cat $(BUILDDIR)/test-status)" = 0 ] || failed="$$failed $$name"; \
	done; \
	if [ -n "$$failed" ]; then \
		echo "== failures in pass(es):$$failed (whole log: $(BUILDDIR)/test.log)"; \
		grep -A8 -e '✘.*recorded an issue' -e 'error: ' $(BUILDDIR)/test.log | head -n 300; \
		exit 1; \
	fi

# anything-sync-daemon_<version>_<arch>.deb (and .buildinfo, .changes) in $(DEBDIR).
# Needs debhelper, and swift on PATH (/opt/swift/usr/bin is added when present).
DEBDIR     ?= $(BUILDDIR)/deb
DEBNAME     = $(PN)_$(shell dpkg-parsechangelog -SVersion 2>/dev/null)_$(shell dpkg-architecture -qDEB_HOST_ARCH 2>/dev/null)
deb:
	mkdir -p "$(DEBDIR)"
	rm -f "$(DEBDIR)"/anything-sync-daemon*
	PATH="$$PATH:/opt/swift/usr/bin" ASD_DEB_DESTDIR="$(abspath $(DEBDIR))" \
		dpkg-buildpackage -b -us -uc \
		--buildinfo-option=-u"$(abspath $(DEBDIR))" --changes-option=-u"$(abspath $(DEBDIR))" \
		--buildinfo-file="$(abspath $(DEBDIR))/$(DEBNAME).buildinfo" \
		--changes-file="$(abspath $(DEBDIR))/$(DEBNAME).changes"
	@ls -l "$(DEBDIR)"/*.deb

boot-test: deb
	Tests/systemd/boot-test.sh
	Tests/systemd/zram-boot-test.sh

# Power loss in a VM (the guest's page cache is lost); ASD_POWERLOSS_ROUNDS=N for more
# rounds, ASD_POWERLOSS_ENGINE=rsync for the rsync engine, ASD_POWERLOSS_FS=btrfs or xfs
# for the targets on such a file system. See Tests/powerloss/README.md.
powerloss-test: $(RELEASEBIN)
	Tests/powerloss/rig.py

# The loss window of `asd watch`: 8 cuts while an application changes files without
# pause; every change older than 10 s plus one write-back must be on disk.
powerloss-watch-test: $(RELEASEBIN)
	ASD_POWERLOSS_WATCH=1 Tests/powerloss/rig.py

clean:
	rm -rf $(BUILDDIR)
