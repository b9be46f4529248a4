/* The daemon's settings: read from tinc.conf and the command line by the
 * daemon at start-up and on SIGHUP, read by every layer above config. */
#ifndef FQTINC_SETTINGS_H
#define FQTINC_SETTINGS_H

#include "util/compat.h"
#include "config/conf.h"
#include "packet/crypto.h"

typedef enum route_mode { MODE_ROUTER = 0, MODE_SWITCH, MODE_HUB } route_mode_t;
typedef enum forwarding_mode { FORWARDING_OFF = 0, FORWARDING_INTERNAL, FORWARDING_KERNEL } forwarding_mode_t;
typedef enum broadcast_mode { BROADCAST_NO = 0, BROADCAST_MST, BROADCAST_DIRECT } broadcast_mode_t;

typedef struct settings {
	char *config_dir;          /* /etc/tinc/NETNAME or -c */
	char *netname;           /* NULL without -n */
	char *instance_name;         /* "tinc.NETNAME" or "tinc" */
	config_entries_t *config;   /* server config (tinc.conf, conf.d, own host file, -o) */

	int pinginterval;        /* seconds */
	int pingtimeout;
	int maxtimeout, mintimeout;
	int key_expire;         /* KeyExpire */
	int macexpire;
	int replaywindow;        /* bytes */
	int max_output_buffer_size;
	int udp_rcvbuf, udp_sndbuf;
	int udp_ports;           /* fqtinc: outer source ports per listener, its own included (UDPPorts) */
	int max_subnets_per_node; /* fqtinc: what another node may announce, so that */
	int max_edges_per_node;   /* an authenticated peer cannot grow us without bound */

	route_mode_t route_mode;
	forwarding_mode_t forwarding_mode;
	broadcast_mode_t broadcast_mode;
	bool tunnelserver, strictsubnets, directonly, decrement_ttl;
	bool priorityinheritance;
	bool ecn;                /* fqtinc: RFC 6040 normal mode toward capable peers */
	int ecn_validation_interval; /* fqtinc: seconds between ECN path checks */
	bool offload;            /* fqtinc: kernel segmentation offloads (tun, UDP) */
	bool localdiscovery;
	bool hostnames;

	cipher_info_t cipher;    /* own Cipher: what peers use to send to us */
	digest_info_t digest;
	int maclength;
	int compression;
	int meta_cipher_nid;
	char *listen_port;            /* our Port as a decimal string */
	void *privkey;           /* rsa_key_t * */
	char *scripts_interpreter;
} settings_t;

extern settings_t settings;

#endif
