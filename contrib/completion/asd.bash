# bash completion for asd (anything-sync-daemon)
_asd() {
    local cur=${COMP_WORDS[COMP_CWORD]}
    COMPREPLY=()
    if [ "$COMP_CWORD" -eq 1 ]; then
        mapfile -t COMPREPLY < <(compgen -W 'sync resync unsync parse preview clean help version --help --version' -- "$cur")
    elif [ "$COMP_CWORD" -eq 2 ]; then
        case ${COMP_WORDS[1]} in
        p | P | parse | Parse | preview | Preview | debug)
            mapfile -t COMPREPLY < <(compgen -W '--json' -- "$cur") ;;
        esac
    fi
}
complete -F _asd asd anything-sync-daemon
