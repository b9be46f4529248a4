/* tincd: command line, daemon start-up and shutdown order (spec §2.8). */
#include "util/compat.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "packet/compress.h"
#include "config/cmdline.h"
#include "config/conf.h"
#include "config/settings.h"
#include "packet/crypto.h"
#include "util/event.h"
#include "util/log.h"
#include "daemon/net.h"
#include "daemon/netsetup.h"
#include "meta/connection.h"
#include "meta/net_socket.h"
#include "meta/protocol.h"
#include "meta/topology.h"
#include "util/xalloc.h"

typedef struct options {
	bool no_detach;
	bool generate_keys;
	int keybits;
	bool do_kill;
	int kill_signal;
	bool do_mlock;
	bool do_chroot;
	char *switchuser;
	bool use_logfile;
	char *logfilename;
	char *pidfilename;
	char *confbase;
	char *netname;
	bool bypass_security;
} options_t;

static options_t opt = {.keybits = 2048, .kill_signal = SIGTERM};
static int pidfile_fd = -1;

static void usage(bool status_ok) {
	if(!status_ok) {
		fprintf(stderr, "Try `tincd --help' for more information.\n");
		return;
	}
	printf("Usage: tincd [option]...\n\n"
	       "  -c, --config=DIR              Read configuration options from DIR.\n"
	       "  -D, --no-detach               Don't fork and detach.\n"
	       "  -d, --debug[=LEVEL]           Increase debug level or set it to LEVEL.\n"
	       "  -k, --kill[=SIGNAL]           Attempt to kill a running tincd and exit.\n"
	       "  -n, --net=NETNAME             Connect to net NETNAME.\n"
	       "  -K, --generate-keys[=BITS]    Generate public/private RSA keypair.\n"
	       "  -L, --mlock                   Lock tinc into main memory.\n"
	       "      --logfile[=FILENAME]      Write log entries to a logfile.\n"
	       "      --pidfile=FILENAME        Write PID to FILENAME.\n"
	       "  -o, --option=[HOST.]KEY=VALUE Set global/host configuration value.\n"
	       "  -R, --chroot                  chroot to NET dir at startup.\n"
	       "  -U, --user=USER               setuid to given USER at startup.\n"
	       "      --help                    Display this help and exit.\n"
	       "      --version                 Output version information and exit.\n"
	       "\n"
	       "  generate-keys [BITS]          Same as --generate-keys (for init scripts).\n\n"
	       "fqtinc extensions are documented in tinc.conf(5) and README.ecn.\n");
}

static int signal_by_name(const char *s) {
	static const struct {
		const char *name;
		int sig;
	} table[] = {
		{"HUP", SIGHUP}, {"TERM", SIGTERM}, {"KILL", SIGKILL}, {"USR1", SIGUSR1},
		{"USR2", SIGUSR2}, {"WINCH", SIGWINCH}, {"INT", SIGINT}, {"ALRM", SIGALRM},
		{"ABRT", SIGABRT},
	};
	if(!strncasecmp(s, "SIG", 3))
		s += 3;
	for(size_t i = 0; i < ARRAY_SIZE(table); i++)
		if(!strcasecmp(s, table[i].name))
			return table[i].sig;
	char *end;
	long n = strtol(s, &end, 10);
	if(*s && !*end && n > 0 && n < 65)
		return (int)n;
	return -1;
}

static bool parse_keybits(const char *s, int *bits) {
	char *end;
	long n = strtol(s, &end, 10);
	if(!*s || *end || n < 512 || n > 16384) {
		fprintf(stderr, "Invalid key size %s: expected a number of bits from 512 to 16384.\n", s);
		return false;
	}
	*bits = (int)(n & ~7L);
	return true;
}

static bool parse_options(int argc, char **argv) {
	enum { OPT_HELP = 256, OPT_VERSION, OPT_LOGFILE, OPT_PIDFILE, OPT_BYPASS };
	static const struct option long_options[] = {
		{"config", required_argument, NULL, 'c'},
		{"kill", optional_argument, NULL, 'k'},
		{"net", required_argument, NULL, 'n'},
		{"help", no_argument, NULL, OPT_HELP},
		{"version", no_argument, NULL, OPT_VERSION},
		{"no-detach", no_argument, NULL, 'D'},
		{"generate-keys", optional_argument, NULL, 'K'},
		{"debug", optional_argument, NULL, 'd'},
		{"bypass-security", no_argument, NULL, OPT_BYPASS},
		{"mlock", no_argument, NULL, 'L'},
		{"chroot", no_argument, NULL, 'R'},
		{"user", required_argument, NULL, 'U'},
		{"logfile", optional_argument, NULL, OPT_LOGFILE},
		{"pidfile", required_argument, NULL, OPT_PIDFILE},
		{"option", required_argument, NULL, 'o'},
		{NULL, 0, NULL, 0},
	};
	int r;
	while((r = getopt_long(argc, argv, "c:DLd::k::n:o:K::RU:", long_options, NULL)) != -1) {
		switch(r) {
		case 'c':
			free(opt.confbase);
			opt.confbase = xstrdup(optarg);
			break;
		case 'D':
			opt.no_detach = true;
			break;
		case 'L':
			opt.do_mlock = true;
			break;
		case 'd':
			if(!optarg && optind < argc && *argv[optind] >= '0' && *argv[optind] <= '9')
				optarg = argv[optind++]; /* "-d 5" */
			if(optarg) {
				char *end;
				long n = strtol(optarg, &end, 10);
				if(*end || n < 0) {
					fprintf(stderr, "Invalid debug level %s.\n", optarg);
					return false;
				}
				debug_level = (int)n;
			} else {
				debug_level = debug_level < 0 ? 1 : debug_level + 1;
			}
			break;
		case 'k':
			opt.do_kill = true;
			if(!optarg && optind < argc && *argv[optind] != '-')
				optarg = argv[optind++];
			if(optarg) {
				opt.kill_signal = signal_by_name(optarg);
				if(opt.kill_signal < 0) {
					fprintf(stderr, "Invalid argument `%s'; SIGNAL must be a number or one of HUP, TERM, KILL, USR1, USR2, WINCH, INT or ALRM.\n", optarg);
					return false;
				}
			}
			break;
		case 'n':
			free(opt.netname);
			opt.netname = xstrdup(optarg);
			break;
		case 'o':
			if(!cmdline_option_add(optarg)) {
				fprintf(stderr, "Invalid option `%s': expected [HOST.]KEY=VALUE.\n", optarg);
				return false;
			}
			break;
		case 'K':
			opt.generate_keys = true;
			if(!optarg && optind < argc && *argv[optind] >= '0' && *argv[optind] <= '9')
				optarg = argv[optind++];
			if(optarg && !parse_keybits(optarg, &opt.keybits))
				return false;
			break;
		case 'R':
			opt.do_chroot = true;
			break;
		case 'U':
			free(opt.switchuser);
			opt.switchuser = xstrdup(optarg);
			break;
		case OPT_HELP:
			usage(true);
			exit(0);
		case OPT_VERSION:
			printf("tinc version 1.0.36 (fqtinc %s)\n"
			       "Protocol 17. fqtinc is a clean-room implementation compatible with tinc 1.0.\n"
			       "This is free software; see the source for copying conditions.\n",
			       PACKAGE_VERSION);
			exit(0);
		case OPT_LOGFILE:
			opt.use_logfile = true;
			if(!optarg && optind < argc && *argv[optind] != '-')
				optarg = argv[optind++];
			free(opt.logfilename);
			opt.logfilename = optarg ? xstrdup(optarg) : NULL;
			break;
		case OPT_PIDFILE:
			free(opt.pidfilename);
			opt.pidfilename = xstrdup(optarg);
			break;
		case OPT_BYPASS:
			fprintf(stderr, "--bypass-security is not supported by fqtinc (it disables all authentication).\n");
			return false;
		default:
			usage(false);
			return false;
		}
	}

	/* OpenWrt's init script says "tincd ... generate-keys [BITS]". */
	if(optind < argc && !strcmp(argv[optind], "generate-keys")) {
		opt.generate_keys = true;
		optind++;
		if(optind < argc && !parse_keybits(argv[optind++], &opt.keybits))
			return false;
	}
	if(optind < argc) {
		fprintf(stderr, "Unexpected argument `%s'.\n", argv[optind]);
		usage(false);
		return false;
	}

	if(opt.netname && (!*opt.netname || !strcmp(opt.netname, "."))) {
		free(opt.netname);
		opt.netname = NULL;
	}
	if(opt.netname && (strpbrk(opt.netname, "\\/") || *opt.netname == '.')) {
		fprintf(stderr, "Invalid character in netname!\n");
		return false;
	}
	return true;
}

static void make_names(void) {
	if(opt.netname) {
		settings.netname = xstrdup(opt.netname);
		settings.identname = xasprintf("tinc.%s", opt.netname);
	} else {
		settings.identname = xstrdup("tinc");
	}
	if(opt.confbase)
		settings.confbase = xstrdup(opt.confbase);
	else if(opt.netname)
		settings.confbase = xasprintf("%s/tinc/%s", SYSCONFDIR, opt.netname);
	else
		settings.confbase = xasprintf("%s/tinc", SYSCONFDIR);
	if(!opt.pidfilename)
		opt.pidfilename = xasprintf("%s/%s.pid", RUNSTATEDIR, settings.identname);
	if(opt.use_logfile && !opt.logfilename)
		opt.logfilename = xasprintf("%s/log/%s.log", LOCALSTATEDIR, settings.identname);
}

static pid_t read_pidfile(void) {
	FILE *f = fopen(opt.pidfilename, "r");
	if(!f)
		return 0;
	long pid = 0;
	if(fscanf(f, "%ld", &pid) != 1)
		pid = 0;
	fclose(f);
	return (pid_t)pid;
}

static int kill_other(void) {
	pid_t pid = read_pidfile();
	if(pid <= 0) {
		fprintf(stderr, "No other tincd is running for %s (no pid in %s).\n",
		        opt.netname ? opt.netname : "the default net", opt.pidfilename);
		return 1;
	}
	if(kill(pid, opt.kill_signal) < 0) {
		fprintf(stderr, "Cannot send signal %d to tincd (pid %ld): %s\n", opt.kill_signal, (long)pid, strerror(errno));
		if(errno == ESRCH) {
			fprintf(stderr, "Removing stale lock file.\n");
			unlink(opt.pidfilename);
		}
		return 1;
	}
	return 0;
}

/* The pid file is also a lock: a second daemon for the same net refuses to start. */
static bool write_pidfile(void) {
	pidfile_fd = open(opt.pidfilename, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	if(pidfile_fd < 0) {
		logger(DEBUG_ALWAYS, LOG_ERR, "Could not write pid file %s: %s", opt.pidfilename, strerror(errno));
		return false;
	}
	if(flock(pidfile_fd, LOCK_EX | LOCK_NB) < 0) {
		logger(DEBUG_ALWAYS, LOG_ERR, "A tincd is already running for this net (pid file %s is locked)", opt.pidfilename);
		close(pidfile_fd);
		pidfile_fd = -1;
		return false;
	}
	char buf[32];
	int n = snprintf(buf, sizeof(buf), "%ld\n", (long)getpid());
	if(ftruncate(pidfile_fd, 0) < 0 || write(pidfile_fd, buf, (size_t)n) != n) {
		logger(DEBUG_ALWAYS, LOG_ERR, "Could not write pid file %s: %s", opt.pidfilename, strerror(errno));
		return false;
	}
	return true;
}

static bool detach(void) {
	if(opt.no_detach)
		return true;
	pid_t pid = fork();
	if(pid < 0) {
		fprintf(stderr, "fork: %s\n", strerror(errno));
		return false;
	}
	if(pid > 0)
		_exit(0);
	setsid();
	int fd = open("/dev/null", O_RDWR);
	if(fd >= 0) {
		dup2(fd, 0);
		dup2(fd, 1);
		dup2(fd, 2);
		if(fd > 2)
			close(fd);
	}
	return true;
}

static bool drop_privileges(void) {
	struct passwd *pw = NULL;
	if(opt.switchuser) {
		pw = getpwnam(opt.switchuser);
		if(!pw) {
			logger(DEBUG_ALWAYS, LOG_ERR, "Unknown user `%s'", opt.switchuser);
			return false;
		}
		if(initgroups(opt.switchuser, pw->pw_gid) < 0 || setgid(pw->pw_gid) < 0) {
			logger(DEBUG_ALWAYS, LOG_ERR, "Could not switch group of user %s: %s", opt.switchuser, strerror(errno));
			return false;
		}
	}
	if(opt.do_chroot) {
		tzset(); /* keep the time zone for log stamps after the chroot */
		if(chroot(settings.confbase) < 0 || chdir("/") < 0) {
			logger(DEBUG_ALWAYS, LOG_ERR, "Could not chroot to %s: %s", settings.confbase, strerror(errno));
			return false;
		}
		free(settings.confbase);
		settings.confbase = xstrdup("");
	}
	if(pw && setuid(pw->pw_uid) < 0) {
		logger(DEBUG_ALWAYS, LOG_ERR, "Could not switch to user %s: %s", opt.switchuser, strerror(errno));
		return false;
	}
	return true;
}

static void on_term(int sig) {
	logger(DEBUG_ALWAYS, LOG_NOTICE, "Got %s signal", strsignal(sig));
	event_exit();
}

static void on_hup(int sig) {
	(void)sig;
	logger(DEBUG_ALWAYS, LOG_NOTICE, "Got HUP signal");
	log_reopen();
	if(!reload_configuration())
		logger(DEBUG_ALWAYS, LOG_ERR, "Unable to reread configuration file, keeping the old one");
}

static int saved_debug_level = -1;

static void on_int(int sig) {
	(void)sig;
	if(saved_debug_level != -1) {
		logger(DEBUG_ALWAYS, LOG_NOTICE, "Reverting to old debug level (%d)", saved_debug_level);
		debug_level = saved_debug_level;
		saved_debug_level = -1;
	} else {
		logger(DEBUG_ALWAYS, LOG_NOTICE, "Temporarily setting debug level to 5.  Kill me with SIGINT again to go back to level %d.", debug_level);
		saved_debug_level = debug_level;
		debug_level = DEBUG_TRAFFIC;
	}
}

static void on_alrm(int sig) {
	(void)sig;
	logger(DEBUG_ALWAYS, LOG_NOTICE, "Got ALRM signal");
	logger(DEBUG_ALWAYS, LOG_NOTICE, "Flushing event queue");
	timer_expire_all();
	sset_foreach(connection_t, c, &connection_list)
		if(c->status.active)
			send_ping(c);
}

static void on_usr1(int sig) {
	(void)sig;
	dump_connections();
}

static void on_usr2(int sig) {
	(void)sig;
	dump_nodes_edges_subnets();
}

static void on_winch(int sig) {
	(void)sig;
	purge();
}

static void install_signals(void) {
	signal(SIGPIPE, SIG_IGN);
	signal(SIGCHLD, SIG_DFL);
	signal_add(SIGTERM, on_term);
	signal_add(SIGQUIT, on_term);
	signal_add(SIGHUP, on_hup);
	signal_add(SIGINT, on_int); /* toggles the debug level, with -D too (as tinc 1.0.36) */
	signal_add(SIGALRM, on_alrm);
	signal_add(SIGUSR1, on_usr1);
	signal_add(SIGUSR2, on_usr2);
	signal_add(SIGWINCH, on_winch);
}

static int generate_keys(void) {
	char err[256];
	char *name = NULL;
	char *priv = NULL, *pub = NULL;
	conf_string(settings.config, "PrivateKeyFile", &priv);
	if(!priv)
		priv = confpath("rsa_key.priv");
	if(conf_string(settings.config, "Name", &name) && check_id(name))
		pub = xasprintf("%s/hosts/%s", settings.confbase, name);
	else
		pub = confpath("rsa_key.pub");
	fprintf(stderr, "Generating %d bits keys:\n", opt.keybits);
	if(!rsa_generate_keyfiles(opt.keybits, priv, pub, err, sizeof(err))) {
		fprintf(stderr, "Error generating keys: %s\n", err);
		return 1;
	}
	fprintf(stderr, "Done.\nPrivate key written to %s\nPublic key written to %s\n", priv, pub);
	free(name);
	free(priv);
	free(pub);
	return 0;
}

int main(int argc, char **argv) {
	if(!parse_options(argc, argv))
		return 1;
	make_names();

	if(opt.do_kill)
		return kill_other();

	crypto_init();
	if(!compress_init()) {
		fprintf(stderr, "Could not initialise compression.\n");
		return 1;
	}

	/* Log to stderr until we know where to log. */
	if(debug_level < 0)
		debug_level = DEBUG_ALWAYS;
	log_open(LOGMODE_STDERR, settings.identname, NULL);

	if(!reload_server_config())
		return 1;

	if(opt.generate_keys)
		return generate_keys();

	if(opt.do_mlock && mlockall(MCL_CURRENT | MCL_FUTURE) < 0) {
		logger(DEBUG_ALWAYS, LOG_ERR, "System call `mlockall' failed: %s", strerror(errno));
		return 1;
	}

	if(!detach())
		return 1;
	if(opt.use_logfile)
		log_open(LOGMODE_FILE, settings.identname, opt.logfilename);
	else if(!opt.no_detach)
		log_open(LOGMODE_SYSLOG, settings.identname, NULL);

	if(!write_pidfile())
		return 1;

	logger(DEBUG_ALWAYS, LOG_NOTICE, "tincd %s (fqtinc) starting, debug level %d", PACKAGE_VERSION, debug_level);

	if(!event_init())
		return 1;
	install_signals();

	int status = 1;
	if(!setup_network())
		goto out;
	if(!drop_privileges())
		goto out_network;

	try_outgoing_connections();
	status = event_loop() ? 0 : 1;

out_network:
	close_network();
out:
	logger(DEBUG_ALWAYS, LOG_NOTICE, "Terminating");
	if(pidfile_fd >= 0) {
		unlink(opt.pidfilename);
		close(pidfile_fd);
	}
	crypto_exit();
	log_close();
	return status;
}
