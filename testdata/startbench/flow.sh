#!/usr/bin/env bash
# flow.sh APP MINIMAL PEEK [N]: for make bench-ui (under Xvfb, in a session
# bus of its own). The app on a new demonstration through a whole
# identifier renewal by keyboard, as a voter: home, request (NUMIC, e-mail,
# security code read by testdata/peek), sent, the e-mail's link handed to the
# running app by a second start, the password and a second code, the new
# identifier; its peak RSS (VmHWM) 2 s after that page, against the minimal
# window's 2 s after its frame; N (default 3) runs of each, interleaved.
set -euo pipefail
app=$1 minimal=$2 peek=$3 n=${4:-3}
dir=$(mktemp -d); trap 'rm -rf "$dir"' EXIT
hwm() { awk '/VmHWM/{print $2}' /proc/$1/status; }
window() { # the visible window whose title ends in $1
	for _ in $(seq 600); do
		w=$(xdotool search --onlyvisible --name "$1\$" 2>/dev/null | head -1) && [ -n "$w" ] && { echo "$w"; return; }
		sleep 0.1
	done
	echo "no window $1" >&2; exit 1
}
page() { # waits for the app's page $1
	for _ in $(seq 600); do
		[ "$(xdotool getwindowname "$win" 2>/dev/null)" = "$1 – consulvote" ] && return
		sleep 0.1
	done
	echo "flow stuck before \"$1\": at \"$(xdotool getwindowname "$win")\"; output:" >&2; cat "$HOME/stderr" >&2; exit 1
}
keys() { xdotool windowfocus --sync "$win" "$@"; sleep 0.3; }
flow() {
	export HOME=$dir/app-$1 XDG_DATA_HOME=$dir/app-$1/data XDG_CONFIG_HOME=$dir/app-$1/config
	mkdir -p "$HOME"; local db=$XDG_DATA_HOME/consulvote/demo.db
	"$app" --demo --lang fr 2>"$HOME/stderr" & local pid=$!
	win=$(window " – consulvote"); page "Accueil"
	keys key Tab key space; page "Renouvellement de votre identifiant"
	keys type --delay 40 00012345; keys key Tab; keys type --delay 40 marie.dupont@example.org
	keys key Tab key Tab key Tab; keys type --delay 40 "$("$peek" code "$db")"; keys key Return
	page "Envoyé !"
	"$app" --demo "$("$peek" link "$db")" 2>>"$HOME/stderr"
	page "Renouvellement de votre identifiant"; sleep 1
	# The password, Enter: the form says the code is missing and focuses it.
	keys type --delay 40 Mdp4Demo2026; keys key Return
	keys type --delay 40 "$("$peek" code "$db" 2)"; keys key Return
	page "Votre nouvel identifiant"; sleep 2
	hwm $pid; kill -TERM $pid; wait $pid || true
}
yardstick() {
	HOME=$dir/minimal "$minimal" 2>/dev/null & local pid=$!
	window "minimal consulvote yardstick" >/dev/null; sleep 2
	hwm $pid; kill -TERM $pid; wait $pid || true
}
a=() m=() r=()
for i in $(seq "$n"); do
	a+=("$(flow "$i")"); m+=("$(yardstick)")
	r+=("$(awk -v a="${a[-1]}" -v m="${m[-1]}" 'BEGIN{printf "%.2f", a/m}')")
done
mmm() { printf '%s\n' "$@" | sort -n | awk '{v[NR]=$1} END{printf "%s/%s/%s", v[1], v[int((NR+1)/2)], v[NR]}'; }
mib() { for k in "$@"; do awk -v k="$k" 'BEGIN{printf "%.0f\n", k/1024}'; done; }
echo "whole renewal flow, $n interleaved runs each (min/median/max):"
echo "  peak RSS 2 s after the new identifier: app $(mmm $(mib "${a[@]}")) MiB, minimal 2 s after its frame $(mmm $(mib "${m[@]}")) MiB, ratio $(mmm "${r[@]}")"
