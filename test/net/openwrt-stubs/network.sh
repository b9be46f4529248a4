# Test stand-in for OpenWrt's /lib/functions/network.sh: two fixed networks.
network_get_device() {
	case "$2" in
	lan) eval "$1=br-lan" ;;
	wan) eval "$1=eth1" ;;
	*) eval "$1=''"; return 1 ;;
	esac
}
