# bash completion for asd (anything-sync-daemon)
_asd() {
    local cur=${COMP_WORDS[COMP_CWORD]}
    COMPREPLY=()
    if [ "$COMP_CWORD" -eq 1 ]; then
        mapfile -t COMPREPLY < <(compgen -W 'sync resync unsync parse preview clean help version --help --version' -- "$cur")
    fi
}
complete -F _asd asd anything-sync-daemon
