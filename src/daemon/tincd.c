/* tincd: command line, daemon start-up and shutdown order (protocol.md §2.8). */
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
#include "control/control.h"
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
	bool lock_memory;
	bool chroot_to_config_dir;
	char *run_as_user;
	bool logfile_given;
	char *log_file_path;
	char *pid_file_path;
	char *config_dir;
	char *netname;
	bool bypass_security;
} options_t;

static options_t opt = {.keybits = 2048, .kill_signal = SIGTERM};
static int pidfile_fd = -1;

static void usage(bool status_ok) {
	if(!status_ok) {
		fprintf(stderr, "Run tincd --help to list the options\n");
		return;
	}
	printf("Usage: tincd [option]... [generate-keys [BITS]]\n"
	       "Runs a node of a tinc 1.0 VPN (protocol 17).\n\n"
	       "  -c, --config=DIR              read the configuration from DIR instead\n"
	       "  -n, --net=NETNAME             the VPN to join, configured in %s/tinc/NETNAME\n"
	       "                                (without -n and -c: %s/tinc)\n"
	       "  -D, --no-detach               stay in the foreground and log to stderr\n"
	       "  -d, --debug[=LEVEL]           log more: each -d adds a level, -d LEVEL sets one\n"
	       "  -k, --kill[=SIGNAL]           signal the running daemon of this net (TERM if none given),\n"
	       "                                then exit\n"
	       "  -K, --generate-keys[=BITS]    write a new RSA key pair (2048 bits if none given), then exit\n"
	       "  -L, --mlock                   keep all memory of the daemon out of swap\n"
	       "      --logfile[=FILENAME]      log to FILENAME (default: %s/log/tinc.NETNAME.log)\n"
	       "                                instead of syslog\n"
	       "      --pidfile=FILENAME        where to keep the process id (default: %s/tinc.NETNAME.pid)\n"
	       "  -o, --option=[HOST.]KEY=VALUE as if KEY = VALUE stood in tinc.conf, or in hosts/HOST\n"
	       "  -R, --chroot                  confine the daemon to its configuration directory once\n"
	       "                                it is running\n"
	       "  -U, --user=USER               give up root and run as USER once the network is set up\n"
	       "      --help                    print these lines\n"
	       "      --version                 print the version\n"
	       "\n"
	       "  generate-keys [BITS]          as --generate-keys; the form OpenWrt's init script uses\n\n"
	       "tincd(8) explains the options, tinc.conf(5) the configuration; the fqtinc\n"
	       "extensions are marked there and in README.ecn.\n",
	       SYSCONFDIR, SYSCONFDIR, LOCALSTATEDIR, RUNSTATEDIR);
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
		fprintf(stderr, "Key size %s is not usable: give a number of bits from 512 to 16384\n", s);
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
			free(opt.config_dir);
			opt.config_dir = xstrdup(optarg);
			break;
		case 'D':
			opt.no_detach = true;
			break;
		case 'L':
			opt.lock_memory = true;
			break;
		case 'd':
			if(!optarg && optind < argc && *argv[optind] >= '0' && *argv[optind] <= '9')
				optarg = argv[optind++]; /* "-d 5" */
			if(optarg) {
				char *end;
				long n = strtol(optarg, &end, 10);
				if(*end || n < 0) {
					fprintf(stderr, "Debug level %s is not a number from 0 up\n", optarg);
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
					fprintf(stderr, "Unknown signal %s: use a number or a name such as HUP, TERM, KILL, USR1, USR2, WINCH, INT, ALRM\n", optarg);
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
				fprintf(stderr, "Cannot use -o %s: the form is [HOST.]KEY=VALUE\n", optarg);
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
			opt.chroot_to_config_dir = true;
			break;
		case 'U':
			free(opt.run_as_user);
			opt.run_as_user = xstrdup(optarg);
			break;
		case OPT_HELP:
			usage(true);
			exit(0);
		case OPT_VERSION:
			printf("fqtinc %s: tincd for tinc 1.0 networks, protocol 17\n"
			       "Written from the protocol's facts, without tinc's source code.\n"
			       "Free software under the GNU GPL version 2 or later, without any warranty;\n"
			       "COPYING in the source has the terms.\n",
			       PACKAGE_VERSION);
			exit(0);
		case OPT_LOGFILE:
			opt.logfile_given = true;
			if(!optarg && optind < argc && *argv[optind] != '-')
				optarg = argv[optind++];
			free(opt.log_file_path);
			opt.log_file_path = optarg ? xstrdup(optarg) : NULL;
			break;
		case OPT_PIDFILE:
			free(opt.pid_file_path);
			opt.pid_file_path = xstrdup(optarg);
			break;
		case OPT_BYPASS:
			fprintf(stderr, "Refusing --bypass-security: fqtinc never runs without authentication\n");
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
		fprintf(stderr, "Unknown argument %s\n", argv[optind]);
		usage(false);
		return false;
	}

	if(opt.netname && (!*opt.netname || !strcmp(opt.netname, "."))) {
		free(opt.netname);
		opt.netname = NULL;
	}
	if(opt.netname && (strpbrk(opt.netname, "\\/") || *opt.netname == '.')) {
		fprintf(stderr, "Net name %s contains a slash or backslash or starts with a dot: use a plain directory name\n", opt.netname);
		return false;
	}
	return true;
}

static void init_names_and_paths(void) {
	if(opt.netname) {
		settings.netname = xstrdup(opt.netname);
		settings.instance_name = xasprintf("tinc.%s", opt.netname);
	} else {
		settings.instance_name = xstrdup("tinc");
	}
	if(opt.config_dir)
		settings.config_dir = xstrdup(opt.config_dir);
	else if(opt.netname)
		settings.config_dir = xasprintf("%s/tinc/%s", SYSCONFDIR, opt.netname);
	else
		settings.config_dir = xasprintf("%s/tinc", SYSCONFDIR);
	if(!opt.pid_file_path)
		opt.pid_file_path = xasprintf("%s/%s.pid", RUNSTATEDIR, settings.instance_name);
	if(opt.logfile_given && !opt.log_file_path)
		opt.log_file_path = xasprintf("%s/log/%s.log", LOCALSTATEDIR, settings.instance_name);
}

static pid_t read_pidfile(void) {
	FILE *f = fopen(opt.pid_file_path, "r");
	if(!f)
		return 0;
	long pid = 0;
	if(fscanf(f, "%ld", &pid) != 1)
		pid = 0;
	fclose(f);
	return (pid_t)pid;
}

static int signal_running_daemon(void) {
	pid_t pid = read_pidfile();
	if(pid <= 0) {
		fprintf(stderr, "Found no running daemon for %s: %s holds no process id\n",
		        opt.netname ? opt.netname : "the default net", opt.pid_file_path);
		return 1;
	}
	if(kill(pid, opt.kill_signal) < 0) {
		fprintf(stderr, "Cannot signal the daemon (signal %d, pid %ld): %s\n", opt.kill_signal, (long)pid, strerror(errno));
		if(errno == ESRCH) {
			fprintf(stderr, "That daemon is gone; deleting its leftover pid file\n");
			unlink(opt.pid_file_path);
		}
		return 1;
	}
	return 0;
}

/* The pid file is also a lock: a second daemon for the same net refuses to
 * start. It is private (0600) because it will hold the control cookie. */
static bool write_pid_file(const char *text) {
	size_t n = strlen(text);
	/* Overwrite, then cut: a reader never sees the file empty. */
	if(fchmod(pidfile_fd, 0600) < 0 || pwrite(pidfile_fd, text, n, 0) != (ssize_t)n ||
	   ftruncate(pidfile_fd, (off_t)n) < 0) {
		logger(VERBOSITY_ERRORS, LOG_ERR, "Cannot write the pid file %s: %s", opt.pid_file_path, strerror(errno));
		return false;
	}
	return true;
}

static bool create_pid_file(void) {
	pidfile_fd = open(opt.pid_file_path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if(pidfile_fd < 0) {
		logger(VERBOSITY_ERRORS, LOG_ERR, "Cannot write the pid file %s: %s", opt.pid_file_path, strerror(errno));
		return false;
	}
	if(flock(pidfile_fd, LOCK_EX | LOCK_NB) < 0) {
		logger(VERBOSITY_ERRORS, LOG_ERR, "Another daemon is already running for this net: it holds the lock on %s; stop it first (tincd -k)", opt.pid_file_path);
		close(pidfile_fd);
		pidfile_fd = -1;
		return false;
	}
	char buf[32];
	snprintf(buf, sizeof(buf), "%ld\n", (long)getpid());
	return write_pid_file(buf);
}

/* tinc 1.1's control program reads "PID COOKIE HOST port PORT" from the pid
 * file (doc/protocol.md §12.1); the pid stays first for tincd -k and init
 * systems that read only the first number. */
static void on_control_retry(void);
static void on_control_stop(void);
static bool on_control_reload(void);

static bool open_control_socket(void) {
	static const control_actions_t actions = {
		.reload = on_control_reload,
		.retry = on_control_retry,
		.stop = on_control_stop,
	};
	char line[256];
	char *path = control_socket_path(opt.pid_file_path);
	bool ok = control_open(path, &actions, line, sizeof(line)) && write_pid_file(line);
	free(path);
	return ok;
}

static bool detach(void) {
	if(opt.no_detach)
		return true;
	pid_t pid = fork();
	if(pid < 0) {
		fprintf(stderr, "Cannot go to the background: fork failed: %s\n", strerror(errno));
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
	if(opt.run_as_user) {
		pw = getpwnam(opt.run_as_user);
		if(!pw) {
			logger(VERBOSITY_ERRORS, LOG_ERR, "User %s does not exist; check the -U option", opt.run_as_user);
			return false;
		}
		if(initgroups(opt.run_as_user, pw->pw_gid) < 0 || setgid(pw->pw_gid) < 0) {
			logger(VERBOSITY_ERRORS, LOG_ERR, "Cannot take on the groups of user %s: %s", opt.run_as_user, strerror(errno));
			return false;
		}
	}
	if(opt.chroot_to_config_dir) {
		tzset(); /* keep the time zone for log stamps after the chroot */
		if(chroot(settings.config_dir) < 0 || chdir("/") < 0) {
			logger(VERBOSITY_ERRORS, LOG_ERR, "Cannot confine the daemon to %s (chroot): %s", settings.config_dir, strerror(errno));
			return false;
		}
		free(settings.config_dir);
		settings.config_dir = xstrdup("");
	}
	if(pw && setuid(pw->pw_uid) < 0) {
		logger(VERBOSITY_ERRORS, LOG_ERR, "Cannot become user %s: %s", opt.run_as_user, strerror(errno));
		return false;
	}
	return true;
}

static void on_term(int sig) {
	logger(VERBOSITY_ERRORS, LOG_NOTICE, "Signal %s: shutting down", sig == SIGQUIT ? "QUIT" : "TERM");
	event_loop_stop();
}

static void on_hup(int sig) {
	(void)sig;
	logger(VERBOSITY_ERRORS, LOG_NOTICE, "Signal HUP: reopening the log and re-reading the configuration");
	log_reopen();
	if(!reload_settings())
		logger(VERBOSITY_ERRORS, LOG_ERR, "The new configuration has errors (see above): keeping the one in use; fix it and send HUP again");
}

static int level_before_sigint = -1;

static void on_int(int sig) {
	(void)sig;
	if(level_before_sigint != -1) {
		logger(VERBOSITY_ERRORS, LOG_NOTICE, "Signal INT: debug level back to %d", level_before_sigint);
		debug_level = level_before_sigint;
		level_before_sigint = -1;
	} else {
		logger(VERBOSITY_ERRORS, LOG_NOTICE, "Signal INT: debug level 5 until the next INT, which restores %d", debug_level);
		level_before_sigint = debug_level;
		debug_level = VERBOSITY_TRAFFIC;
	}
}

static void on_alrm(int sig) {
	(void)sig;
	logger(VERBOSITY_ERRORS, LOG_NOTICE, "Signal ALRM: running every timer now and pinging all peers");
	timer_expire_all();
	sset_foreach(connection_t, c, &connection_set)
		if(c->status.active)
			send_ping_request(c);
}

static void on_control_retry(void) {
	on_alrm(SIGALRM);
}

static void on_control_stop(void) {
	event_loop_stop();
}

static bool on_control_reload(void) {
	log_reopen();
	return reload_settings();
}

static void on_usr1(int sig) {
	(void)sig;
	dump_connection_list();
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
	signal_watch(SIGTERM, on_term);
	signal_watch(SIGQUIT, on_term);
	signal_watch(SIGHUP, on_hup);
	signal_watch(SIGINT, on_int); /* toggles the debug level, with -D too (as tinc 1.0.36) */
	signal_watch(SIGALRM, on_alrm);
	signal_watch(SIGUSR1, on_usr1);
	signal_watch(SIGUSR2, on_usr2);
	signal_watch(SIGWINCH, on_winch);
}

static int generate_keys(void) {
	char err[256];
	char *name = NULL;
	char *priv = NULL, *pub = NULL;
	conf_string(settings.config, "PrivateKeyFile", &priv);
	if(!priv)
		priv = confpath("rsa_key.priv");
	if(conf_string(settings.config, "Name", &name) && node_name_is_valid(name))
		pub = xasprintf("%s/hosts/%s", settings.config_dir, name);
	else
		pub = confpath("rsa_key.pub");
	fprintf(stderr, "Making a %d-bit RSA key pair\n", opt.keybits);
	if(!rsa_generate_keyfiles(opt.keybits, priv, pub, err, sizeof(err))) {
		fprintf(stderr, "Cannot make the key pair: %s\n", err);
		return 1;
	}
	fprintf(stderr, "Wrote the private key to %s and the public key to %s\n", priv, pub);
	free(name);
	free(priv);
	free(pub);
	return 0;
}

int main(int argc, char **argv) {
	if(!parse_options(argc, argv))
		return 1;
	init_names_and_paths();

	if(opt.do_kill)
		return signal_running_daemon();

	crypto_init();
	if(!compress_init()) {
		fprintf(stderr, "Cannot set up the compression libraries\n");
		return 1;
	}

	/* Log to stderr until we know where to log. */
	if(debug_level < 0)
		debug_level = VERBOSITY_ERRORS;
	log_open(LOG_TO_STDERR, settings.instance_name, NULL);

	if(!reload_server_config())
		return 1;

	if(opt.generate_keys)
		return generate_keys();

	if(opt.lock_memory && mlockall(MCL_CURRENT | MCL_FUTURE) < 0) {
		logger(VERBOSITY_ERRORS, LOG_ERR, "Cannot lock the daemon's memory (mlockall, for -L): %s", strerror(errno));
		return 1;
	}

	if(!detach())
		return 1;
	if(opt.logfile_given)
		log_open(LOG_TO_FILE, settings.instance_name, opt.log_file_path);
	else if(!opt.no_detach)
		log_open(LOG_TO_SYSLOG, settings.instance_name, NULL);

	if(!create_pid_file())
		return 1;

	logger(VERBOSITY_ERRORS, LOG_NOTICE, "fqtinc %s starting at debug level %d", PACKAGE_VERSION, debug_level);

	if(!event_init())
		return 1;
	install_signals();

	int status = 1;
	if(!network_init())
		goto out;
	/* Without the control socket the VPN still works; only `tinc` cannot reach it. */
	if(!open_control_socket())
		logger(VERBOSITY_ERRORS, LOG_WARNING, "Running without a control socket: tinc and fqtinc cannot reach this daemon");
	if(!drop_privileges())
		goto out_network;

	outgoing_sync_connect_to();
	status = event_loop() ? 0 : 1;

out_network:
	control_close();
	close_network();
out:
	logger(VERBOSITY_ERRORS, LOG_NOTICE, "Daemon stopped");
	if(pidfile_fd >= 0) {
		unlink(opt.pid_file_path);
		close(pidfile_fd);
	}
	crypto_exit();
	log_close();
	return status;
}
