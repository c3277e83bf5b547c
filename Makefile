# consulvote — the two commands: `make run` and `make test`.
# Both install what is missing on a Debian/Ubuntu machine first.

SHELL := /bin/bash
GO ?= go
# The app's build tags: Fyne without its bundled colour emoji font (4.2 MB,
# parsed again for each text style at start: 18 MiB of peak RSS). No text
# of the app needs it; a typed emoji is drawn from the system's fonts.
APP_TAGS := no_emoji
# Every go command builds with the tags of the packages (`fyne package
# -release` adds release and, for FyneApp.toml's [Migrations] fyneDo,
# migrated_fynedo): the tests run the Fyne that ships, and one compile of
# Fyne serves the tests, the builds and the packages. Without -trimpath's
# folder-free paths, a fresh clone would compile the whole tree again
# wherever it sits instead of finding it in Go's build cache.
TAGS := $(APP_TAGS),release,migrated_fynedo
export GOFLAGS := -trimpath -tags=$(TAGS) $(filter-out -trimpath -tags=%,$(GOFLAGS))
# The C flags `fyne package -release` gives cgo (fyne.io/tools'
# hardening_flags.go, for Debian's gcc; it finds no version in mingw-w64's,
# so no hardening there), for every build and test here: the tests run the
# C that ships, and Go compiles Fyne and its C once for them all, not again
# for the packages (240 s of CPU for each system). The packages' fyne runs
# without them, as it adds its own to what it is given.
export CGO_CFLAGS := -O3 -pipe -D_FORTIFY_SOURCE=3 -fcf-protection -fstack-protector-strong
export CGO_LDFLAGS := -Wl,-z,relro,-z,now -Wl,--as-needed
WINDOWS_CGO := CGO_ENABLED=1 CC=x86_64-w64-mingw32-gcc GOOS=windows GOARCH=amd64 CGO_CFLAGS="-O3 -pipe" CGO_LDFLAGS=
FYNE_ALONE := env -u CGO_CFLAGS -u CGO_LDFLAGS
# The test targets link without DWARF (-ldflags=-w): their binaries are
# run, not debugged, and DWARF is most of a link (the screens' test
# binary: 4.6 s of CPU, 1.3 without).
TEST_TARGETS := vet staticcheck core cross unit race keychain smoke fuzz test-scheme test-windows
$(TEST_TARGETS): export GOFLAGS += -ldflags=-w

# Fyne's build packages (GLFW 3.4, from Fyne 2.8, builds Wayland support
# too: libwayland-dev, libxkbcommon-dev, wayland-protocols), then what the
# tests use: Xvfb and xdotool and ImageMagick for the real-window smoke
# test, gnome-keyring + D-Bus + secret-tool for the keychain tests,
# PostgreSQL for the PostgreSQL store's tests (a private cluster each test
# binary starts: internal/pgtest). git for `go` and the fyne CLI.
# libasound2-dev: ALSA, through which the app plays the spoken security
# code (oto, cgo). systemd: systemd-analyze checks the server's unit
# (deploy/consulvoted.service). postfix: a private relay the delivery
# tests start (internal/postfixtest) for real delivery reports; installed
# with "No configuration", so that no system mail server is set up.
APT_PACKAGES := gcc pkg-config libgl1-mesa-dev libx11-dev libxcursor-dev libxrandr-dev \
	libxinerama-dev libxi-dev libxxf86vm-dev libgl1-mesa-dri \
	libwayland-dev libxkbcommon-dev wayland-protocols libasound2-dev \
	xvfb xauth xdotool imagemagick gnome-keyring dbus-x11 libsecret-tools postgresql git ca-certificates time \
	systemd postfix

FUZZTIME ?= 10s
BIN := consulvote
SERVER := consulvoted

.PHONY: all deps run test vet staticcheck core build unit race keychain smoke fuzz bench bench-roll bench-ui profile-start load load-stores load-logins timing package clean
.PHONY: deps-windows cross package-windows test-windows test-scheme package-darwin test-compute test-waiting

# Windows and the consulvote:// scheme, built and tested from Linux: mingw-w64
# for the cross-build's cgo, NSIS for the installer, osslsigncode to sign,
# Wine to run it (locales: Wine needs real host locales, compiled privately
# by the test, to hand Windows an accented user name), xdg-utils and
# desktop-file-utils for the Linux URL-scheme handler.
WIN_APT_PACKAGES := gcc-mingw-w64-x86-64 nsis osslsigncode openssl wine wine64 locales xdg-utils desktop-file-utils
WINDIR := build/windows
# Xvfb on a display number of its own: several test runs share the machine.
# -noreset: by default Xvfb resets when its last client leaves, and a
# client connecting during the reset is refused — the tests' xdotool polls
# come and go while the app connects (GLFW: "Failed to detect any
# supported platform"; likely Wine's "Failed to create helper window" too).
XVFB = xvfb-run -a -n $$((100 + $$RANDOM % 800)) -s "-screen 0 1280x1024x24 -noreset"
# A laptop's screen, for the test that an error shows at 150 %.
XVFB_1366 = xvfb-run -a -n $$((100 + $$RANDOM % 800)) -s "-screen 0 1366x768x24 -noreset"

all: test

## deps: install the missing Debian packages (nothing when all are there).
deps:
	@missing=""; \
	for p in $(APT_PACKAGES); do \
		dpkg-query -W -f='$${Status}' "$$p" 2>/dev/null | grep -q "install ok installed" || missing="$$missing $$p"; \
	done; \
	if ! command -v $(GO) >/dev/null 2>&1; then missing="$$missing golang-go"; fi; \
	if [ -n "$$missing" ]; then \
		echo "Installing:$$missing"; \
		sudo=""; [ "$$(id -u)" -eq 0 ] || sudo="sudo"; \
		echo "postfix postfix/main_mailer_type select No configuration" | $$sudo debconf-set-selections; \
		$$sudo apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive $$sudo apt-get install -y -qq --no-install-recommends $$missing; \
	fi

## build: the app binary, and the server: static, without cgo or Fyne.
build: deps
	$(GO) build -o $(BIN) .
	CGO_ENABLED=0 $(GO) build -o $(SERVER) ./cmd/consulvoted

## run: the app on the demonstration database (seeded on first start).
run: build
	./$(BIN) --demo

## test: every test — vet and staticcheck, the core and the server
## without cgo, the core under -race, the screens, the keychain against a
## real Secret Service, the real window under Xvfb, and a short fuzzing of
## the link parser. Two lines of targets at once: those that compute
## (vet, builds, go test), one after the other, and beside them those
## that mostly wait (Wine, Xvfb, the packages, fuzzing's fixed time); the
## output of each target printed whole when it ends.
TEST_COMPUTE := vet staticcheck core cross unit race
# The Windows package first: its compile (mingw, Fyne's C at -O3) is the
# longest and shares nothing with the Linux one the other line starts
# with; the Linux package after the Linux compile, not beside it (two go
# commands compiling the same package at once both do it).
TEST_WAITING := package-windows test-windows package test-scheme keychain smoke fuzz
test: deps
	@# The fyne CLI first: the Windows package needs it at once, and built
	@# beside the Linux compile it would compile the standard library again.
	@$(GO) tool -n fyne >/dev/null
	@$(MAKE) --no-print-directory -j2 --output-sync=target test-compute test-waiting
test-compute:
	@$(MAKE) --no-print-directory SERIAL=1 $(TEST_COMPUTE)
test-waiting:
	@$(MAKE) --no-print-directory SERIAL=1 $(TEST_WAITING)
# One line's targets one after the other (its output still synced by target).
ifdef SERIAL
.NOTPARALLEL:
endif

## vet: gofmt, go vet, and actionlint (pinned in go.mod) on the hosted
## runners' workflow, which cannot run here.
vet:
	@test -z "$$(gofmt -l .)" || { echo "gofmt would change:"; gofmt -l .; exit 1; }
	$(GO) vet ./...
	$(GO) tool actionlint

## staticcheck: honnef.co/go/tools, pinned in go.mod (tool directive).
staticcheck:
	$(GO) tool staticcheck ./...

## core: nothing under app/ or cmd/ needs cgo or a display.
core:
	CGO_ENABLED=0 $(GO) build ./app/... ./cmd/...

## cross: the core, the server and every package that does not draw (the
## translations too: Fyne's lang needs no cgo) build without cgo for macOS
## (arm64: the hosted runner's and Apple's machines), and go vet checks
## them there with their tests (what .github/workflows/desktop.yml's macOS
## runner compiles). Windows is test-windows': with cgo, as its runner and
## the package build it. Not packaging/: the Linux-side tests of the packages.
cross:
	@pkgs=$$($(GO) list -f '{{.ImportPath}} {{join .Deps " "}}' ./... | grep -v -e 'fyne.io/fyne/v2/widget' -e 'github.com/go-gl/' | \
		cut -d' ' -f1 | grep -v -e '^consulvote/packaging/'); \
	echo "GOOS=darwin GOARCH=arm64 CGO_ENABLED=0 go build and go vet (tests included): $$(echo $$pkgs | wc -w) packages"; \
	CGO_ENABLED=0 GOOS=darwin GOARCH=arm64 $(GO) build $$pkgs && \
	CGO_ENABLED=0 GOOS=darwin GOARCH=arm64 $(GO) vet $$pkgs

## unit: the tests of every package but app/'s, which race runs (once
## is enough); the screens in both, as their walks of every screen run
## only without -race; and the service's imports of large rolls, which
## skip under -race (one goroutine: withoutRace). The systemd unit's test
## must run, not skip.
unit:
	CONSULVOTE_SYSTEMD=1 $(GO) test -count=1 $$($(GO) list ./... | grep -v '^consulvote/app/')
	$(GO) test -count=1 -run '^TestImport' ./app/service

race:
	$(GO) test -count=1 -race -timeout 30m ./app/... ./screens/...

## keychain and smoke set up a real part (a private Secret Service, an X
## display) and ask for it: a missing piece fails the test instead of
## skipping it, and scripts/must-run fails the target if a test skipped or
## none ran.
keychain:
	scripts/with-secret-service scripts/must-run $(GO) test -v -count=1 -run 'SecretService|RealKeychain' ./app/keychain ./screens

## smoke and bench-ui run the app in a session bus of their own
## (dbus-run-session ends it with them): without one, each Fyne app under
## Xvfb autolaunches a D-Bus daemon through X that outlives it.
smoke:
	$(XVFB) dbus-run-session -- env CONSULVOTE_SMOKE=1 scripts/must-run $(GO) test -v -count=1 -run TestSmokeRealWindow .
	$(XVFB_1366) dbus-run-session -- env CONSULVOTE_SMOKE=1 scripts/must-run $(GO) test -v -count=1 -run TestRealWindowErrorInView .

fuzz:
	$(GO) test -run '^$$' -fuzz '^FuzzParseLinkToken$$' -fuzztime $(FUZZTIME) ./app/portal
	$(GO) test -run '^$$' -fuzz '^FuzzDecode$$' -fuzztime $(FUZZTIME) ./app/api

## bench: the service on a 200,000-voter roll, and one bare argon2id hash.
bench: deps
	$(GO) test -run '^$$' -bench . -benchmem -benchtime 300x ./app/service

## load: the server on loopback at concurrency 1, 16 and 64, on a
## 200,000-voter roll, next to a bare JSON-decoding handler.
load: deps
	$(GO) test -run '^$$' -bench 'Load$$' -benchtime 2000x ./app/server
	@echo "With production settings (20 ms floor, per-client limit of 2/s, bursts of 20; one address per client):"
	$(GO) test -run '^$$' -bench LoadProduction -benchtime 1280x ./app/server
	@echo "The cost of the metrics (the same server without and with them, side by side; and one scrape):"
	$(GO) test -run '^$$' -bench LoadMetrics -benchtime 2000x ./app/metrics

## load-stores: the identifier-renewal pair (a security code, then the
## request) at concurrency 1, 16 and 64 on SQLite, on PostgreSQL with one
## server instance and with two sharing the database (a private cluster
## with PostgreSQL's default settings: scripts/with-postgres), from one
## address and from one address per client: pairs/s, latency, CPU per pair
## of the servers, of the load generator (a process of its own) and of
## PostgreSQL, write transactions and transactions per pair.
load-stores: deps
	scripts/with-postgres $(GO) test -run '^$$' -bench LoadStores -benchtime 2000x ./app/server

## load-logins: the real binary under 16, 64 and 150 concurrent logins:
## logins evaluated per second next to cores ÷ hash time, quick refusals
## (503), latency and the server's peak RSS.
load-logins: build
	$(GO) run ./testdata/loginload -bin ./$(SERVER) -c 16,64,150 -d 10s

## timing: identifier and password requests of each class (match, wrong
## e-mail or NUMIC, unknown), 300 each, interleaved, with the 20 ms floor:
## a two-sample Kolmogorov-Smirnov test must not tell them apart at 1 %.
## On SQLite, and on PostgreSQL (scripts/with-postgres) with two instances
## behind one address.
timing: deps
	scripts/with-postgres $(GO) test -run '^$$' -bench Timing -benchtime 1x -timeout 30m ./app/server

## bench-roll: roll import of 500,000 and 2,000,000 lines (rows/s, peak
## RSS, database size) into SQLite, then into PostgreSQL (a private
## cluster with default settings: scripts/with-postgres), and the desk's
## lookup at 2,000,000 voters.
bench-roll: build
	@dir=$$(mktemp -d); trap 'rm -rf "$$dir"' EXIT; \
	for n in 500000 2000000; do \
		$(GO) run ./testdata/genroll $$n 100 $$dir/roll-$$n.csv || exit 1; \
		/usr/bin/time -f "SQLite, $$n lines: %e s, peak RSS %M KiB" ./$(SERVER) roll import --create --db $$dir/db-$$n.sqlite $$dir/roll-$$n.csv --errors $$dir/err.csv 2>&1 | grep -v "lines read"; \
		ls -l $$dir/db-$$n.sqlite | awk '{printf "database: %.1f MiB\n", $$5/1048576}'; \
		rm -f $$dir/db-$$n.sqlite*; \
	done; \
	scripts/with-postgres scripts/bench-roll-postgres ./$(SERVER) $$dir/roll-500000.csv $$dir/roll-2000000.csv
	$(GO) test -run '^$$' -bench VoterLookup -benchtime 2000x ./app/service

## bench-ui: the app's start against the minimal Fyne window's
## (testdata/minimal), interleaved, BENCH_UI_N starts each: time to the
## first painted frame and peak RSS (testdata/startbench), on the
## demonstration, a new demonstration (--demo-reset), a new database and a
## local roll of 2,000,000 voters (imported once, kept in $(BENCH_UI_ROLL));
## both in Fyne's release mode, as `fyne package -release` builds them (the
## minimal window with no other tag); on Linux (and its peak RSS after a
## whole renewal flow by keyboard: testdata/startbench/flow.sh), then the
## Windows package under Wine (a prefix kept in $(BENCH_UI_WINE), its
## wineserver kept up for the run).
BENCH_UI_N ?= 10
BENCH_UI_ROLL ?= $(or $(TMPDIR),/tmp)/consulvote-bench-roll
BENCH_UI_WINE ?= $(or $(TMPDIR),/tmp)/consulvote-bench-wine
BENCH_UI_CASES = -n $(BENCH_UI_N) -cases demo,demo-reset,new,big -big $(BENCH_UI_ROLL)/db.sqlite
bench-ui: deps package-windows
	$(GO) build -o $(BIN) . && $(GO) build -tags release -o build/minimal ./testdata/minimal && $(GO) build -o build/startbench ./testdata/startbench && $(GO) build -o build/peek ./testdata/peek
	$(WINDOWS_CGO) $(GO) build -tags release -ldflags "-s -w -H=windowsgui" -o $(WINDIR)/minimal.exe ./testdata/minimal
	@ls -l $(BIN) build/minimal $(WINDIR)/consulvote.exe $(WINDIR)/minimal.exe | awk '{printf "%s: %.1f MB (%.1f MiB)\n", $$NF, $$5/1e6, $$5/1048576}'
	@set -o pipefail; if [ ! -s $(BENCH_UI_ROLL)/db.sqlite ]; then \
		mkdir -p $(BENCH_UI_ROLL) && CGO_ENABLED=0 $(GO) build -o build/$(SERVER) ./cmd/consulvoted && \
		$(GO) run ./testdata/genroll 2000000 0 $(BENCH_UI_ROLL)/roll.csv && \
		build/$(SERVER) roll import --create --db $(BENCH_UI_ROLL)/db.sqlite $(BENCH_UI_ROLL)/roll.csv --errors $(BENCH_UI_ROLL)/errors.csv 2>&1 | grep -v "lines read" && \
		rm $(BENCH_UI_ROLL)/roll.csv || { rm -rf $(BENCH_UI_ROLL); exit 1; }; \
	fi
	@echo "== Linux, under Xvfb"
	$(XVFB) dbus-run-session -- build/startbench -app ./$(BIN) -minimal build/minimal $(BENCH_UI_CASES)
	$(XVFB) dbus-run-session -- testdata/startbench/flow.sh ./$(BIN) build/minimal build/peek
	@echo "== Windows, under Wine and Xvfb"
	$(XVFB) bash -c 'set -e; export $$(scripts/wine-prefix $(BENCH_UI_WINE)); wineserver -p; trap "wineserver -k" EXIT; \
		build/startbench -wine -app $(WINDIR)/consulvote.exe -minimal $(WINDIR)/minimal.exe $(BENCH_UI_CASES)'

## profile-start: one start of the app on the demonstration, under Xvfb,
## recorded for Go's tools (startprofile.go): build/profile/trace.out (the
## start's steps as regions: go tool trace, "User-defined regions"),
## cpu.pprof, heap.pprof, and the package inits (GODEBUG=inittrace=1) in
## build/profile/stderr.
profile-start: deps
	$(GO) build -tags $(TAGS),startprofile -o build/consulvote-profile .
	mkdir -p build/profile
	$(XVFB) dbus-run-session -- bash -c 'GODEBUG=inittrace=1 CONSULVOTE_PROFILE=build/profile build/consulvote-profile --demo 2> build/profile/stderr & \
		sleep 5; kill $$!; wait'

## package: a Linux archive with the binary, the .desktop file and the icon.
## The fyne CLI is pinned in go.mod (tool directive): `go tool fyne`. It
## bumps Build in FyneApp.toml and drops files beside the sources: it runs
## in a copy of them (scripts/source-copy).
package: deps
	src=$$(mktemp -d); trap 'rm -rf "$$src"' EXIT; scripts/source-copy "$$src" && \
		fyne=$$($(GO) tool -n fyne) && \
		(cd "$$src" && $(FYNE_ALONE) $$fyne package -os linux -release -tags $(APP_TAGS)) && mv "$$src/$(BIN).tar.xz" .
	@tar -tJf $(BIN).tar.xz | grep -E 'bin/$(BIN)$$' >/dev/null && \
	tar -tJf $(BIN).tar.xz | grep -E '\.desktop$$' >/dev/null && \
	tar -tJf $(BIN).tar.xz | grep -E 'pixmaps/.*\.png$$' >/dev/null && \
	echo "$(BIN).tar.xz holds the binary, the .desktop file and the icon"
	scripts/linux-scheme $(BIN).tar.xz
	@tar -xOJf $(BIN).tar.xz --wildcards '*.desktop' | grep -qx 'MimeType=x-scheme-handler/consulvote;' && \
	echo "its .desktop file handles consulvote:// links"

deps-windows:
	@$(MAKE) --no-print-directory deps APT_PACKAGES="$(WIN_APT_PACKAGES)"

## test-scheme: the Linux archive installed by its Makefile in a private
## home; xdg-open opens consulvote:// links in the app, on the link's page.
test-scheme: package deps-windows
	$(XVFB) env CONSULVOTE_XDG=1 CONSULVOTE_TARBALL=$(CURDIR)/$(BIN).tar.xz \
		scripts/must-run $(GO) test -v -count=1 -timeout 10m ./packaging/linux

## package-windows: $(WINDIR)/consulvote.exe (GUI, icon, version, -tags
## accessibility) and consulvote-setup.exe (per-user NSIS installer, French
## and English), cross-built here. Signed when WINDOWS_SIGN_PKCS12 names a
## certificate (scripts/sign-windows); otherwise it says they are unsigned.
package-windows: deps deps-windows
	GO=$(GO) APP_TAGS=$(APP_TAGS) scripts/package-windows $(WINDIR)

## test-windows: the package under Wine + Xvfb, in a private prefix as the
## user "Hélène Dupont": install, the voter's flow by keyboard, language
## from the Windows locale, Credential Manager, consulvote://, uninstall.
## Also the signing path, with a throwaway certificate.
test-windows: package-windows
	@# Every package but packaging/'s, with its tests, for Windows as the
	@# package is built (cgo, its tags): the same compile, done once.
	$(WINDOWS_CGO) $(GO) vet -tags accessibility,$(TAGS) $$($(GO) list ./... | grep -v '^consulvote/packaging/')
	$(XVFB) env CONSULVOTE_WINE=1 CONSULVOTE_WINDOWS_DIR=$(CURDIR)/$(WINDIR) \
		scripts/must-run $(GO) test -v -count=1 -timeout 20m ./packaging/windows

## package-darwin (on macOS, with Xcode's command-line tools): consulvote.app
## with the icon, the bundle ID and the consulvote:// scheme, and a .dmg.
## Signing and notarization: see docs/platforms.md.
package-darwin:
	@[ "$$(uname)" = Darwin ] || { echo "package-darwin runs on macOS (fyne package -os darwin needs Xcode's tools)"; exit 1; }
	cp FyneApp.toml .FyneApp.toml.orig
	$(FYNE_ALONE) $(GO) tool fyne package -os darwin -release -tags accessibility,$(APP_TAGS); status=$$?; \
		mv .FyneApp.toml.orig FyneApp.toml; exit $$status
	plutil -insert CFBundleURLTypes -json \
		'[{"CFBundleURLName":"fr.consulvote.portal","CFBundleURLSchemes":["consulvote"]}]' \
		$(BIN).app/Contents/Info.plist
	plutil -lint $(BIN).app/Contents/Info.plist
	[ "$$(plutil -extract CFBundleURLTypes.0.CFBundleURLSchemes.0 raw $(BIN).app/Contents/Info.plist)" = consulvote ] || \
		{ echo "Info.plist does not declare the consulvote:// scheme"; exit 1; }
	rm -f $(BIN).dmg
	hdiutil create -volname $(BIN) -srcfolder $(BIN).app -format UDZO $(BIN).dmg

clean:
	rm -rf $(BIN) $(SERVER) $(BIN).tar.xz .FyneApp.toml.orig build $(BIN).app $(BIN).dmg
