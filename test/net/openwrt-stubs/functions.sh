# Test stand-in for OpenWrt's /lib/functions.sh: only the UCI helpers that
# openwrt/files/tinc.init uses, written for test/net/t_openwrt_init.sh.
#
# config_load NAME reads $IPKG_INSTROOT/etc/config/NAME by running it as a
# shell script with `config', `option' and `list' defined below.  That works
# for files made of those three statements with simply quoted values, which is
# what the test writes; the real uci parser accepts more.
#
# Storage follows the real library's layout: CONFIG_<section>_<option>, the
# section type in CONFIG_<section>_TYPE, list items joined by $LIST_SEP.

append() {
	local _var="$1" _val="$2" _sep="${3:- }" _old
	eval "_old=\${$_var}"
	if [ -n "$_old" ]; then
		eval "$_var=\$_old\$_sep\$_val"
	else
		eval "$_var=\$_val"
	fi
}

config() {
	local _type="$1" _name="$2"
	CONFIG_NUM_SECTIONS=$((CONFIG_NUM_SECTIONS + 1))
	[ -n "$_name" ] || _name="cfg$CONFIG_NUM_SECTIONS"
	append CONFIG_SECTIONS "$_name"
	CONFIG_SECTION="$_name"
	eval "CONFIG_${_name}_TYPE=\$_type"
}

option() {
	local _opt="$1"
	shift
	eval "CONFIG_${CONFIG_SECTION}_${_opt}=\$*"
}

list() {
	local _opt="$1" _val
	shift
	_val="$*"
	append "CONFIG_${CONFIG_SECTION}_${_opt}" "$_val" "$LIST_SEP"
}

config_load() {
	local _s
	for _s in $CONFIG_SECTIONS; do
		unset $(set | sed -n "s/^\(CONFIG_${_s}_[A-Za-z0-9_]*\)=.*/\1/p")
	done
	CONFIG_SECTIONS=""
	CONFIG_NUM_SECTIONS=0
	CONFIG_SECTION=""
	. "$IPKG_INSTROOT/etc/config/$1"
}

# config_get VAR SECTION OPTION [DEFAULT]  or  config_get SECTION OPTION
config_get() {
	case $# in
	2) eval "echo \"\${CONFIG_${1}_${2}}\"" ;;
	*) eval "$1=\${CONFIG_${2}_${3}:-\$4}" ;;
	esac
}

config_get_bool() {
	local _b
	config_get _b "$2" "$3" "$4"
	case "$_b" in
	1 | on | true | yes | enabled) _b=1 ;;
	0 | off | false | no | disabled) _b=0 ;;
	*) _b="$4" ;;
	esac
	eval "$1=\$_b"
}

config_set() {
	eval "CONFIG_${1}_${2}=\$3"
}

# config_foreach FUNCTION [TYPE [ARGS...]]
config_foreach() {
	local _fn="$1" _type="$2" _s _t
	shift
	[ $# -gt 0 ] && shift
	for _s in $CONFIG_SECTIONS; do
		config_get _t "$_s" TYPE
		[ -z "$_type" ] || [ "$_t" = "$_type" ] || continue
		"$_fn" "$_s" "$@"
	done
}
