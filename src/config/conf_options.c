/* The table of known configuration variables (protocol.md §2.4, §2.5, plus fqtinc's
 * extensions) and the start-up warnings about unknown or unsupported ones.
 *
 * Scope: SERVER options belong in tinc.conf; HOST options in hosts/NAME (the
 * own node's may also sit in tinc.conf, since both feed the server set). */
#include "util/compat.h"

#include <strings.h>

#include "config/conf.h"
#include "util/log.h"

#define SERVER(name, multiple, implemented) {name, OPT_SERVER, multiple, implemented, false}
#define HOST(name, multiple, implemented) {name, OPT_HOST, multiple, implemented, false}
#define EXTENSION(name, scope, implemented) {name, scope, false, implemented, true}

static const option_info_t options[] = {
	/* tinc.conf (protocol.md §2.4) */
	SERVER("AddressFamily", false, true),
	SERVER("BindToAddress", true, true),
	SERVER("BindToInterface", false, true),
	SERVER("Broadcast", false, true),
	SERVER("ConnectTo", true, true),
	SERVER("DecrementTTL", false, true),
	SERVER("Device", false, true),
	SERVER("DeviceType", false, true),
	SERVER("DirectOnly", false, true),
	SERVER("Forwarding", false, true),
	SERVER("GraphDumpFile", false, true),
	SERVER("Hostnames", false, false),
	SERVER("IffOneQueue", false, true),
	SERVER("Interface", false, true),
	SERVER("KeyExpire", false, true),
	SERVER("LocalDiscovery", false, true),
	SERVER("MACExpire", false, true),
	SERVER("MaxOutputBufferSize", false, true),
	SERVER("MaxTimeout", false, true),
	SERVER("MinTimeout", false, true),
	SERVER("Mode", false, true),
	SERVER("Name", false, true),
	SERVER("PingInterval", false, true),
	SERVER("PingTimeout", false, true),
	SERVER("PriorityInheritance", false, true),
	SERVER("PrivateKey", false, true),
	SERVER("PrivateKeyFile", false, true),
	SERVER("ProcessPriority", false, true),
	SERVER("Proxy", false, true),
	SERVER("ReplayWindow", false, true),
	SERVER("ScriptsInterpreter", false, true),
	SERVER("StrictSubnets", false, true),
	SERVER("TunnelServer", false, true),
	SERVER("UDPRcvBuf", false, true),
	SERVER("UDPSndBuf", false, true),
	SERVER("VDEGroup", false, false),
	SERVER("VDEPort", false, false),

	/* hosts/NAME (protocol.md §2.5) */
	HOST("Address", true, true),
	HOST("Cipher", false, true),
	HOST("ClampMSS", false, true),
	HOST("Compression", false, true),
	HOST("Digest", false, true),
	HOST("IndirectData", false, true),
	HOST("MACLength", false, true),
	HOST("PMTU", false, true),
	HOST("PMTUDiscovery", false, true),
	HOST("Port", false, true),
	HOST("PublicKey", false, true),
	HOST("PublicKeyFile", false, true),
	HOST("Subnet", true, true),
	HOST("TCPOnly", false, true),
	HOST("Weight", false, true),

	/* fqtinc extensions */
	EXTENSION("ECN", OPT_BOTH, true),
	EXTENSION("ECNValidationInterval", OPT_SERVER, true),
	EXTENSION("Shaper", OPT_SERVER, true),
	EXTENSION("FQCoDelTarget", OPT_SERVER, true),
	EXTENSION("FQCoDelInterval", OPT_SERVER, true),
	EXTENSION("FQCoDelQuantum", OPT_SERVER, true),
	EXTENSION("FQCoDelFlows", OPT_SERVER, true),
	EXTENSION("FQCoDelLimit", OPT_SERVER, true),
	EXTENSION("FQCoDelMemoryLimit", OPT_SERVER, true),
	EXTENSION("FQCoDelECN", OPT_SERVER, true),
	EXTENSION("IngressCEThreshold", OPT_SERVER, true),
	EXTENSION("IngressDropThreshold", OPT_SERVER, true),
	EXTENSION("IngressCoDelTarget", OPT_SERVER, true),
	EXTENSION("IngressCoDelInterval", OPT_SERVER, true),
	EXTENSION("L4SThreshold", OPT_SERVER, true),
	EXTENSION("Offload", OPT_SERVER, true),
	EXTENSION("UDPPorts", OPT_SERVER, true),
	EXTENSION("ShaperOverhead", OPT_SERVER, true),
	EXTENSION("MaxSubnetsPerNode", OPT_SERVER, true),
	EXTENSION("MaxEdgesPerNode", OPT_SERVER, true),
};

const option_info_t *option_lookup(const char *name) {
	if(!name)
		return NULL;
	for(size_t i = 0; i < ARRAY_SIZE(options); i++)
		if(!strcasecmp(options[i].name, name))
			return &options[i];
	return NULL;
}

/* Entries are sorted by variable (case-insensitively), so the first entry of
 * each run stands for the whole run and every variable is reported once. */
void config_warn_unknown(const config_entries_t *tree) {
	if(!tree)
		return;
	const config_t *prev = NULL;
	sset_foreach(const config_t, cfg, &tree->entries) {
		bool first = !prev || strcasecmp(prev->variable, cfg->variable);
		prev = cfg;
		if(!first)
			continue;

		const option_info_t *info = option_lookup(cfg->variable);
		if(!info) {
			if(cfg->file)
				logger(VERBOSITY_ERRORS, LOG_WARNING, "%s line %d: unknown variable %s; ignored",
				       cfg->file, cfg->line, cfg->variable);
			else
				logger(VERBOSITY_ERRORS, LOG_WARNING, "Option -o: unknown variable %s; ignored",
				       cfg->variable);
		} else if(!info->implemented) {
			logger(VERBOSITY_ERRORS, LOG_WARNING, "%s is not implemented in fqtinc yet: ignored",
			       info->name);
		}
	}
}
