# bash completion for asd (anything-sync-daemon)
_asd() {
    local cur=${COMP_WORDS[COMP_CWORD]}
    if [ "$COMP_CWORD" -eq 1 ]; then
        COMPREPLY=($(compgen -W 'sync resync unsync parse preview clean' -- "$cur"))
    else
        COMPREPLY=()
    fi
}
complete -F _asd asd anything-sync-daemon
