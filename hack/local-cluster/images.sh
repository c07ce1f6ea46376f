# shellcheck shell=bash
# Local images as docker-archive tarballs, cached under bin/images and rebuilt
# only when their inputs change; imported into the cluster's containerd.
# Sourced by `up` after lib.sh.

IMAGES_MOD=$ROOT/hack/images
IMAGES_TOOL=$IMAGES_CACHE/images
RUNNER_SUITE=bookworm
RUNNER_PACKAGES=git,openssh-client,curl,ca-certificates

go_bin() {
	if command -v go >/dev/null 2>&1; then
		echo go
	elif [[ -x /usr/local/go/bin/go ]]; then
		echo /usr/local/go/bin/go
	else
		die "go not found (needed to build hack/images)"
	fi
}

# key_of FILE...: a short hash of the files' contents.
key_of() { cat "$@" | sha256sum | cut -c1-32; }

# cached NAME KEY: is IMAGES_CACHE/NAME there and built from KEY?
cached() { [[ -s $IMAGES_CACHE/$1 && -s $IMAGES_CACHE/$1.key && $(<"$IMAGES_CACHE/$1.key") == "$2" ]]; }
mark() { printf '%s\n' "$2" >"$IMAGES_CACHE/$1.key"; }

# The image tool and the pause binary, rebuilt when hack/images changes.
build_image_tools() {
	local key go
	key=$(cd "$IMAGES_MOD" && key_of go.mod go.sum $(find . -name '*.go' ! -name '*_test.go' | sort))
	if cached images "$key" && cached pause-bin "$key"; then
		return
	fi
	go=$(go_bin)
	log "      building hack/images (image tool, pause)…"
	(cd "$IMAGES_MOD" && GOWORK=off CGO_ENABLED=0 "$go" build -trimpath -ldflags '-s -w' -o "$IMAGES_TOOL" . &&
		GOWORK=off CGO_ENABLED=0 "$go" build -trimpath -ldflags '-s -w' -o "$IMAGES_CACHE/pause-bin" ./pause) </dev/null >&2
	mark images "$key"
	mark pause-bin "$key"
}

# The Debian mirror apt uses (deb822 sources first, then sources.list).
debian_mirror() {
	local f uri
	for f in /etc/apt/sources.list.d/*.sources; do
		[[ -f $f ]] || continue
		uri=$(awk -v suite="$RUNNER_SUITE" '
			/^[[:space:]]*$/ { if (uri != "" && ok) { print uri; exit } uri = ""; ok = 0; next }
			tolower($1) == "uris:" { uri = $2 }
			tolower($1) == "suites:" { for (i = 2; i <= NF; i++) if ($i == suite) ok = 1 }
			END { if (uri != "" && ok) print uri }' "$f" | head -n1)
		[[ -n $uri ]] && {
			echo "$uri"
			return
		}
	done
	uri=$(awk -v suite="$RUNNER_SUITE" '$1 == "deb" && $3 == suite { print $2; exit }' /etc/apt/sources.list 2>/dev/null || true)
	echo "${uri:-http://deb.debian.org/debian}"
}

# The runner's root filesystem: Debian minbase plus git, ssh, curl and CA
# certificates, made once with debootstrap and kept as a tarball.
build_runner_rootfs() {
	local mirror key dir
	mirror=$(debian_mirror)
	# The key covers this function's own text: a changed recipe rebuilds.
	key=$({
		printf '%s %s %s\n' "$RUNNER_SUITE" "$RUNNER_PACKAGES" "$mirror"
		declare -f build_runner_rootfs
	} | sha256sum | cut -c1-32)
	if cached runner-rootfs.tar.gz "$key"; then
		return
	fi
	log "      debootstrap $RUNNER_SUITE (minbase + $RUNNER_PACKAGES) from $mirror (first run only, ~2–4 min)…"
	dir=$IMAGES_CACHE/.runner-rootfs
	umount_under "$dir"
	rm -rf "$dir"
	mkdir -p "$dir"
	if ! debootstrap --variant=minbase --include="$RUNNER_PACKAGES" "$RUNNER_SUITE" "$dir" "$mirror" \
		>"$IMAGES_CACHE/debootstrap.log" 2>&1 </dev/null; then
		umount_under "$dir"
		die "debootstrap failed; see $IMAGES_CACHE/debootstrap.log (and $dir/debootstrap/debootstrap.log)"
	fi
	umount_under "$dir"
	# Slim it: package caches and lists, docs, man pages, translations
	# (~225 MB -> ~180 MB unpacked; every cluster start unpacks it).
	rm -rf "$dir"/var/cache/apt/archives/*.deb "$dir"/var/cache/apt/*.bin "$dir"/var/lib/apt/lists/* \
		"$dir"/usr/share/doc/* "$dir"/usr/share/man/* "$dir"/usr/share/info/* "$dir"/var/log/* "$dir"/debootstrap
	find "$dir/usr/share/locale" -mindepth 1 -maxdepth 1 -type d -exec rm -rf {} +
	# The runtime provides /dev, /proc, /sys and /etc/{resolv.conf,hosts,hostname}.
	tar --numeric-owner -C "$dir" -czf "$IMAGES_CACHE/runner-rootfs.tar.gz.tmp" \
		--exclude='./dev/*' --exclude='./proc/*' --exclude='./sys/*' --exclude='./run/*' --exclude='./tmp/*' .
	mv -f "$IMAGES_CACHE/runner-rootfs.tar.gz.tmp" "$IMAGES_CACHE/runner-rootfs.tar.gz"
	mark runner-rootfs.tar.gz "$key"
	rm -rf "$dir"
}

# build_images: pause.tar and runner.tar under bin/images, each only if
# missing or built from other inputs.
build_images() {
	mkdir -p "$IMAGES_CACHE"
	build_image_tools
	local key
	key=$(key_of "$IMAGES_CACHE/images.key" "$IMAGES_CACHE/pause-bin")
	if ! cached pause.tar "$key"; then
		"$IMAGES_TOOL" pause --tag "$PAUSE_IMAGE" --binary "$IMAGES_CACHE/pause-bin" --out "$IMAGES_CACHE/pause.tar"
		mark pause.tar "$key"
	fi
	build_runner_rootfs
	key=$(key_of "$IMAGES_CACHE/images.key" "$IMAGES_CACHE/runner-rootfs.tar.gz.key")
	if ! cached runner.tar "$key"; then
		log "      writing $RUNNER_IMAGE…"
		"$IMAGES_TOOL" rootfs --tag "$RUNNER_IMAGE" --tar "$IMAGES_CACHE/runner-rootfs.tar.gz" \
			--label org.opencontainers.image.description="hookrun deploy-script runner: sh, git, ssh, curl" \
			--out "$IMAGES_CACHE/runner.tar"
		mark runner.tar "$key"
	fi
}

# import_images NAME...: load bin/images/NAME.tar into containerd's k8s.io
# namespace, each only if this containerd has not imported that very tarball.
import_images() {
	local t key stamp
	mkdir -p "$STATE/images"
	for t in "$@"; do
		key=$(<"$IMAGES_CACHE/$t.tar.key")
		stamp=$STATE/images/$t.imported
		[[ -s $stamp && $(<"$stamp") == "$key" ]] && continue
		ctr_k8s images import "$IMAGES_CACHE/$t.tar" >/dev/null
		printf '%s\n' "$key" >"$stamp"
	done
}
