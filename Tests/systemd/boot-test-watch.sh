# The continuous write-back boot of Tests/systemd/boot-test.sh (sourced by it), run
# after boot 3: with RESYNC_DELAY set, the asd-generator's drop-in pulls in
# asd-watch.service, which starts once asd has synced, writes a change back without
# any resync, and is stopped before asd's final write-back at shutdown, which still
# writes back everything. Reads the main script's variables (ROOT, TARGET, SEPTARGET...).

# line_of PATTERN: the first line of this boot's journal (asd and its watcher) matching it.
watch_journal() {
    journalctl -D "$ROOT/var/log/journal" -b -o short-monotonic --no-pager \
        UNIT=asd.service + UNIT=asd-watch.service + _SYSTEMD_UNIT=asd-watch.service 2>/dev/null
}
line_of() { grep -n -m1 -E "$1" <<<"$WATCH_JOURNAL"; }
# in_order PATTERN1 PATTERN2: both in the journal, the first one earlier. Shows both.
in_order() {
    local first second
    first=$(line_of "$1") second=$(line_of "$2")
    log "  ${first#*:}"
    log "  ${second#*:}"
    [ -n "$first" ] && [ -n "$second" ] && [ "${first%%:*}" -lt "${second%%:*}" ]
}
ASD_UNIT='(asd\.service|Anything-sync-daemon: directories in tmpfs, written back to disk)'
WATCH_UNIT='(asd-watch\.service|Anything-sync-daemon: continuous write-back \(RESYNC_DELAY\))'

watch_boot() {
    local before=$failed
    log "boot 3w: continuous write-back (RESYNC_DELAY)"
    printf 'RESYNC_DELAY=2\n' >>"$ROOT/etc/asd.conf"
    boot "$WORK/boot3w.log"
    check "boot 3w: the generator's drop-in pulls in asd-watch.service" \
        output_has '^Wants=asd-watch.service' inside cat /run/systemd/generator/asd.service.d/asd-mounts.conf
    check "boot 3w: asd.service and asd-watch.service are active" \
        eval 'unit_is asd.service active && unit_is asd-watch.service active'
    WATCH_JOURNAL=$(watch_journal)
    check "boot 3w: the watcher started after asd's sync finished" \
        in_order " (Finished|Started) $ASD_UNIT" " Started $WATCH_UNIT"
    check "boot 3w: parse --json shows the watcher running" \
        eval 'parse_json_runs && json ".watch.running and .watch.resyncDelay == 2 and (.watch.source | length > 0)"'
    inside sh -c "echo seven >$TARGET/new7"
    check "boot 3w: a change reaches the disk without a resync" wait_for_file "$ROOT$TARGET/new7" seven 30
    check "boot 3w: ... and asd-resync.service did not run in this boot" \
        eval '! output_has "Resync successful" journalctl -D "$ROOT/var/log/journal" -b -o cat --no-pager -u asd-resync.service'
    inside sh -c "echo eight >$TARGET/new8; echo sepeight >$SEPTARGET/sepnew8"
    check "boot 3w: clean poweroff finishes in time" clean_poweroff
    check "boot 3w: shutdown wrote back everything" \
        eval 'file_is "$ROOT$TARGET/new8" eight && file_is "$(sep_dump 3w)/sepnew8" sepeight'
    WATCH_JOURNAL=$(watch_journal)
    check "boot 3w: the watcher stopped before asd's final write-back began" \
        in_order " Stopped $WATCH_UNIT" " Stopping $ASD_UNIT"
    check "boot 3w: no backup dirs left after a clean shutdown" no_backup_dirs
    sed -i '/^RESYNC_DELAY=/d' "$ROOT/etc/asd.conf"
    [ "$failed" = "$before" ] || { show_asd_journal 3w; log "$WATCH_JOURNAL"; }
}
