# Test stand-in for OpenWrt's /lib/functions/procd.sh: instead of sending the
# service description to procd over ubus, every call is appended to
# $PROCD_LOG, one line each, arguments separated by "|":
#   service tinc / instance NAME / set PARAM|ARG|... / append PARAM|ARG|...
#   close_instance / reload_trigger CONFIG / close_service set|add / kill ...

_procd_record() {
	local _line="$1" _a
	shift
	for _a in "$@"; do
		_line="$_line|$_a"
	done
	echo "$_line" >>"$PROCD_LOG"
}

procd_open_service() {
	echo "service $1" >>"$PROCD_LOG"
}

procd_close_service() {
	service_triggers
	echo "close_service ${1:-set}" >>"$PROCD_LOG"
}

procd_open_instance() {
	echo "instance $1" >>"$PROCD_LOG"
}

procd_set_param() {
	local _p="$1"
	shift
	_procd_record "set $_p" "$@"
}

procd_append_param() {
	local _p="$1"
	shift
	_procd_record "append $_p" "$@"
}

procd_close_instance() {
	echo "close_instance" >>"$PROCD_LOG"
}

procd_add_reload_trigger() {
	_procd_record "reload_trigger" "$@"
}

procd_kill() {
	_procd_record "kill" "$@"
}
