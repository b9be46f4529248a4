/* The daemon's settings: read from tinc.conf and the command line by the
 * daemon at start-up and on SIGHUP, read by every layer above config. */
#ifndef FQTINC_SETTINGS_H
#define FQTINC_SETTINGS_H

#include "util/compat.h"
#include "config/conf.h"
#include "packet/crypto.h"

typedef enum routing_mode { RMODE_ROUTER = 0, RMODE_SWITCH, RMODE_HUB } routing_mode_t;
typedef enum forwarding_mode { FMODE_OFF = 0, FMODE_INTERNAL, FMODE_KERNEL } forwarding_mode_t;
typedef enum broadcast_mode { BMODE_NONE = 0, BMODE_MST, BMODE_DIRECT } broadcast_mode_t;

typedef struct settings {
	char *confbase;          /* /etc/tinc/NETNAME or -c */
	char *netname;           /* NULL without -n */
	char *identname;         /* "tinc.NETNAME" or "tinc" */
	config_tree_t *config;   /* server config (tinc.conf, conf.d, own host file, -o) */

	int pinginterval;        /* seconds */
	int pingtimeout;
	int maxtimeout, mintimeout;
	int keylifetime;         /* KeyExpire */
	int macexpire;
	int replaywindow;        /* bytes */
	int maxoutbufsize;
	int udp_rcvbuf, udp_sndbuf;

	routing_mode_t routing_mode;
	forwarding_mode_t forwarding_mode;
	broadcast_mode_t broadcast_mode;
	bool tunnelserver, strictsubnets, directonly, decrement_ttl;
	bool priorityinheritance;
	bool ecn;                /* fqtinc: RFC 6040 normal mode toward capable peers */
	bool localdiscovery;
	bool hostnames;

	cipher_info_t cipher;    /* own Cipher: what peers use to send to us */
	digest_info_t digest;
	int maclength;
	int compression;
	int meta_cipher_nid;
	char *myport;            /* our Port as a decimal string */
	void *privkey;           /* rsa_key_t * */
	char *scriptinterpreter;
} settings_t;

extern settings_t settings;

#endif
