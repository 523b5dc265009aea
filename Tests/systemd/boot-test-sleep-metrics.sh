# Checks of Tests/systemd/boot-test.sh (sourced by it) for the journal priorities, the
# write-back before sleep (asd-sleep.service) and the metrics (asd.prom read by Debian's
# prometheus-node-exporter). Run in boot 1 while asd runs; they read the main script's
# variables (ROOT, TARGET, SEPTARGET, SEPMOUNT...).

# The container's journal of this boot, read inside (journald there is live).
inside_journal() { inside journalctl -b --no-pager "$@" 2>/dev/null; }

# metric NAME LABELS: the value node_exporter serves for NAME{LABELS}, or nothing.
METRICS=
scrape() { METRICS=$(inside curl -sf http://localhost:9100/metrics); }
metric() { awk -v key="$1${2:+{$2\}}" '$1 == key { print $2 }' <<<"$METRICS"; }
# same VALUE1 VALUE2 / greater VALUE1 VALUE2: numeric comparisons (scientific notation too).
same() { [ -n "$1" ] && awk -v a="$1" -v b="$2" 'BEGIN { exit !(a + 0 == b + 0) }'; }
greater() { [ -n "$1" ] && [ -n "$2" ] && awk -v a="$1" -v b="$2" 'BEGIN { exit !(a + 0 > b + 0) }'; }
within_minute() { [ -n "$1" ] && awk -v a="$1" -v now="$(date +%s)" 'BEGIN { exit !(a > now - 60 && a <= now + 1) }'; }

# In the journal of this boot: asd-sleep's write-back said it succeeded and the unit
# finished before sleep.target was reached. Shows the three lines.
sleep_order_ok() {
    local journal done finished reached
    journal=$(inside_journal -o short-monotonic _SYSTEMD_UNIT=asd-sleep.service + UNIT=asd-sleep.service + UNIT=sleep.target)
    done=$(grep -n -m1 'Resync successful' <<<"$journal")
    finished=$(grep -n -m1 -E 'Finished asd-sleep\.service|Finished Anything-sync-daemon: write tmpfs copies back to disk before sleep' <<<"$journal")
    reached=$(grep -n -m1 -E 'Reached target (sleep\.target|Sleep)' <<<"$journal")
    log "  write-back:    ${done#*:}"
    log "  unit finished: ${finished#*:}"
    log "  sleep reached: ${reached#*:}"
    [ -n "$done" ] && [ -n "$finished" ] && [ -n "$reached" ] &&
        [ "${done%%:*}" -lt "${reached%%:*}" ] && [ "${finished%%:*}" -lt "${reached%%:*}" ]
}

journal_sleep_metrics_checks() {
    local t="target=\"$TARGET\"" s="target=\"$SEPTARGET\"" runs before_success before_failures
    check "boot 1: asd-sleep.service was enabled with asd.service" unit_file_state_is asd-sleep.service enabled
    check "boot 1: prometheus-node-exporter is running" unit_is prometheus-node-exporter.service active

    # A normal write-back: its result at notice, nothing at warning or above.
    inside sh -c "echo metric >$TARGET/metric1"
    scrape
    runs=$(metric asd_writebacks_total "$s")
    check "boot 1: systemctl start asd-resync.service succeeds (journal, metrics)" inside systemctl start asd-resync.service
    check "boot 1: its result is in the journal at priority notice" \
        output_has '^Resync successful$' inside_journal -p notice -o cat -u asd-resync.service
    check "boot 1: a normal resync shows nothing under journalctl -p warning" \
        eval '[ -z "$(inside_journal -p warning -o cat -u asd-resync.service)" ]'
    check "boot 1: node_exporter serves asd's metrics (textfile read without error)" \
        eval 'scrape && same "$(metric asd_target_running "$t")" 1 && same "$(metric node_textfile_scrape_error "")" 0'
    check "boot 1: ... the write-back counter rose by one, the last success is now" \
        eval 'same "$(metric asd_writebacks_total "$s")" $((${runs:-0} + 1)) && within_minute "$(metric asd_last_success_timestamp_seconds "$s")"'
    check "boot 1: ... bytes written, RAM used, no failures" \
        eval 'greater "$(metric asd_written_bytes_total "$t")" 0 && greater "$(metric asd_ram_bytes "$t")" 0 && same "$(metric asd_writeback_failures_total "$s")" 0'
    check "boot 1: ... VOLATILE free bytes and the engine" \
        eval 'greater "$(metric asd_volatile_free_bytes "config=\"/etc/asd.conf\",volatile=\"$VOLMOUNT\"")" 0 && grep -q "^asd_info{.*engine=\"built-in\"" <<<"$METRICS"'

    # A failed write-back: the disk copy's file system read-only.
    before_success=$(metric asd_last_success_timestamp_seconds "$s")
    before_failures=$(metric asd_writeback_failures_total "$s")
    inside sh -c "echo fail >$SEPTARGET/failing" && inside mount -o remount,ro "$SEPMOUNT"
    check "boot 1: with $SEPMOUNT read-only, asd-resync.service fails" eval '! inside systemctl start asd-resync.service'
    inside mount -o remount,rw "$SEPMOUNT"
    check "boot 1: ... the failure shows under journalctl -p err -u asd-resync" \
        output_has "^Error: .*$SEPTARGET" inside_journal -p err -o cat -u asd-resync.service
    check "boot 1: ... and the failed target's warning under -p warning" \
        output_has "^Warning: Write-back of $SEPTARGET failed" inside_journal -p warning -o cat -u asd-resync.service
    scrape
    check "boot 1: ... the failure counter rose by one" same "$(metric asd_writeback_failures_total "$s")" $((before_failures + 1))
    check "boot 1: ... the last success time did not move, the attempt time did" \
        eval 'same "$(metric asd_last_success_timestamp_seconds "$s")" "$before_success" && greater "$(metric asd_last_attempt_timestamp_seconds "$s")" "$before_success"'

    # Before sleep: a change made just before is on disk when sleep.target is reached.
    # sleep.target refuses a manual start (RefuseManualStart=yes), and the container
    # cannot sleep: a stand-in for systemd-suspend.service pulls it in the same way.
    printf '%s\n' '[Unit]' 'Description=boot test: suspend stand-in' 'Requires=sleep.target' 'After=sleep.target' \
        '[Service]' 'Type=oneshot' 'ExecStart=/bin/true' >"$ROOT/etc/systemd/system/asd-test-suspend.service"
    inside systemctl daemon-reload
    inside sh -c "echo sleepy >$TARGET/sleep1; echo sepsleepy >$SEPTARGET/sleep1"
    check "boot 1: a suspend (stand-in) pulling in sleep.target succeeds" inside systemctl start asd-test-suspend.service
    check "boot 1: the change made just before the sleep is on disk" file_is "$ROOT$TARGET/sleep1" sleepy
    check "boot 1: the journal shows asd-sleep's write-back finished before sleep.target was reached" sleep_order_ok
    inside rm -f "$TARGET/metric1" "$TARGET/sleep1" "$SEPTARGET/failing" "$SEPTARGET/sleep1"
}
