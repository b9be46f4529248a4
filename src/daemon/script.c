/* Running tinc-up, host-up, subnet-up and friends (protocol.md §2.7).
 *
 * tinc 1.0.36 runs every script synchronously through system(), so a slow
 * host-up stalls all traffic. Here tinc-up and tinc-down still run to
 * completion (the order of start-up and shutdown depends on them), but the
 * event scripts go into a queue that runs them one at a time, in order,
 * while the data path keeps moving. */
#include "util/compat.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "config/settings.h"
#include "daemon/script.h"
#include "io/device.h"
#include "mesh/node.h"
#include "mesh/subnet.h"
#include "util/event.h"
#include "util/log.h"
#include "util/sockaddr.h"
#include "util/xalloc.h"

extern char **environ;

typedef struct script_job {
	char *path;
	char **env;
	struct script_job *next;
} script_job_t;

static script_job_t *queue_head, *queue_tail;
static pid_t running_pid;
static int running_pidfd = -1;
static fd_watch_t running_io;
static char *running_name;

static char **build_env(char **extra) {
	size_t n_environ = 0, n_extra = 0;
	while(environ && environ[n_environ])
		n_environ++;
	while(extra && extra[n_extra])
		n_extra++;
	char **env = xzalloc((n_environ + n_extra + 5) * sizeof(char *));
	size_t k = 0;
	static const char *const ours[] = {"NETNAME=", "DEVICE=", "INTERFACE=", "NAME="};
	for(size_t i = 0; i < n_environ; i++) {
		bool shadowed = false;
		for(size_t j = 0; j < ARRAY_SIZE(ours); j++)
			if(!strncmp(environ[i], ours[j], strlen(ours[j])))
				shadowed = true;
		for(size_t j = 0; j < n_extra && !shadowed; j++) {
			const char *eq = strchr(extra[j], '=');
			size_t len = eq ? (size_t)(eq - extra[j]) + 1 : strlen(extra[j]);
			if(!strncmp(environ[i], extra[j], len))
				shadowed = true;
		}
		if(!shadowed)
			env[k++] = xstrdup(environ[i]);
	}
	env[k++] = xasprintf("NETNAME=%s", settings.netname ? settings.netname : "");
	env[k++] = xasprintf("DEVICE=%s", device.path ? device.path : "");
	env[k++] = xasprintf("INTERFACE=%s", device.iface ? device.iface : "");
	env[k++] = xasprintf("NAME=%s", local_node ? local_node->name : "");
	for(size_t j = 0; j < n_extra; j++)
		env[k++] = xstrdup(extra[j]);
	env[k] = NULL;
	return env;
}

static void free_env(char **env) {
	for(char **e = env; e && *e; e++)
		free(*e);
	free(env);
}

static pid_t spawn(const char *path, char **env) {
	pid_t pid = fork();
	if(pid != 0)
		return pid;
	/* child: restore default signal handling and an unblocked mask */
	sigset_t none;
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	signal(SIGPIPE, SIG_DFL);
	if(settings.scripts_interpreter)
		execle(settings.scripts_interpreter, settings.scripts_interpreter, path, (char *)NULL, env);
	else
		execle(path, path, (char *)NULL, env);
	_exit(127);
}

static void log_exit_status(const char *name, int status) {
	if(WIFEXITED(status)) {
		if(WEXITSTATUS(status))
			logger(VERBOSITY_ERRORS, LOG_ERR, "Script %s failed with exit status %d", name, WEXITSTATUS(status));
	} else if(WIFSIGNALED(status)) {
		logger(VERBOSITY_ERRORS, LOG_ERR, "Script %s died of signal %d (%s)", name, WTERMSIG(status), strsignal(WTERMSIG(status)));
	}
}

static void start_next(void);

/* Reap the running script (blocking or not); true once it has exited. */
static bool reap_running(bool block) {
	int status = 0;
	pid_t r;
	while((r = waitpid(running_pid, &status, block ? 0 : WNOHANG)) < 0 && errno == EINTR)
		;
	if(r == 0)
		return false;
	if(r > 0)
		log_exit_status(running_name, status);
	fd_watch_stop(&running_io);
	close(running_pidfd);
	running_pidfd = -1;
	running_pid = 0;
	free(running_name);
	running_name = NULL;
	return true;
}

static void running_done(void *data, uint32_t events) {
	(void)data;
	(void)events;
	if(reap_running(false))
		start_next();
}

static void start_next(void) {
	while(!running_pid && queue_head) {
		script_job_t *job = queue_head;
		queue_head = job->next;
		if(!queue_head)
			queue_tail = NULL;
		pid_t pid = spawn(job->path, job->env);
		if(pid < 0) {
			logger(VERBOSITY_ERRORS, LOG_ERR, "Cannot run script %s: %s", job->path, strerror(errno));
		} else {
			int fd = (int)syscall(SYS_pidfd_open, pid, 0);
			if(fd < 0) {
				/* no pidfd: fall back to waiting synchronously */
				int status;
				waitpid(pid, &status, 0);
				log_exit_status(job->path, status);
			} else {
				running_pid = pid;
				running_pidfd = fd;
				running_name = xstrdup(job->path);
				fd_watch_start(&running_io, fd, EPOLLIN, running_done, NULL);
			}
		}
		free(job->path);
		free_env(job->env);
		free(job);
	}
}

static bool run_sync(const char *path, char **env) {
	pid_t pid = spawn(path, env);
	if(pid < 0) {
		logger(VERBOSITY_ERRORS, LOG_ERR, "Cannot run script %s: %s", path, strerror(errno));
		return false;
	}
	int status = 0;
	while(waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	log_exit_status(path, status);
	return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

bool run_script(const char *name, char **extra_env) {
	char *path = xasprintf("%s/%s", settings.config_dir, name);
	if(access(path, F_OK) < 0) {
		free(path);
		return true;
	}
	LOG(VERBOSITY_STATUS, LOG_INFO, "Running script %s", name);
	char **env = build_env(extra_env);
	if(!strcmp(name, "tinc-up") || !strcmp(name, "tinc-down")) {
		/* wait for queued event scripts first so the order stays the one tinc has */
		script_drain();
		bool ok = run_sync(path, env);
		free_env(env);
		free(path);
		return ok;
	}
	script_job_t *job = xzalloc(sizeof(*job));
	job->path = path;
	job->env = env;
	if(queue_tail)
		queue_tail->next = job;
	else
		queue_head = job;
	queue_tail = job;
	start_next();
	return true;
}

/* Shutdown: let queued scripts finish (subnet-down before tinc-down). */
void script_drain(void) {
	while(running_pid || queue_head) {
		if(running_pid) {
			reap_running(true);
		} else {
			start_next();
		}
	}
}

/* ---- the scripts of nodes and subnets ---- */

static void node_script_env(node_t *n, char **env, size_t *k) {
	char host[SOCKADDR_STRLEN] = "unknown", port[16] = "unknown";
	if(n->address.sa.sa_family)
		sockaddr_format(&n->address, host, sizeof(host), port, sizeof(port));
	env[(*k)++] = xasprintf("REMOTEADDRESS=%s", host);
	env[(*k)++] = xasprintf("REMOTEPORT=%s", port);
}

static void free_extra_env(char **env) {
	for(char **e = env; *e; e++)
		free(*e);
}

static void subnet_script(node_t *owner, subnet_t *s, bool up) {
	char net[SUBNET_TEXT_MAX];
	char *env[8] = {0};
	size_t k = 0;
	subnet_format_without_weight(net, sizeof(net), s);
	env[k++] = xasprintf("NODE=%s", owner->name);
	env[k++] = xasprintf("SUBNET=%s", net);
	env[k++] = xasprintf("WEIGHT=%d", s->weight);
	if(owner != local_node)
		node_script_env(owner, env, &k);
	run_script(up ? "subnet-up" : "subnet-down", env);
	free_extra_env(env);
}

void run_subnet_scripts(node_t *owner, subnet_t *subnet, bool up) {
	if(subnet) {
		subnet_script(owner, subnet, up);
		return;
	}
	sset_foreach(subnet_t, s, &owner->subnets)
		subnet_script(owner, s, up);
}

void host_scripts(node_t *n, bool up) {
	char *env[4] = {0};
	size_t k = 0;
	env[k++] = xasprintf("NODE=%s", n->name);
	node_script_env(n, env, &k);
	run_script(up ? "host-up" : "host-down", env);
	char *name = xasprintf("hosts/%s-%s", n->name, up ? "up" : "down");
	run_script(name, env);
	free(name);
	free_extra_env(env);
}
