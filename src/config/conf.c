/* Configuration entries, the ordered config tree, typed getters and the
 * file reader (protocol.md §2.2, §2.3). The option table lives in conf_options.c. */
#include "util/compat.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "config/conf.h"
#include "util/log.h"
#include "mesh/subnet.h"
#include "util/xalloc.h"

/* ---- entries and the tree ---- */

static int cmp_int(int a, int b) {
	return (a > b) - (a < b);
}

/* Precedence order of protocol.md §2.3: variable (case-insensitive), command-line
 * entries first, then line number across all files, then file path. The
 * line rule is what makes tinc.conf and hosts/MYNAME interleave the way
 * tinc 1.0.36 does; it is reproduced on purpose. */
static int config_entry_cmp(const void *va, const void *vb) {
	const config_t *a = va, *b = vb;
	int result = strcasecmp(a->variable, b->variable);
	if(result)
		return result;
	result = cmp_int(a->file != NULL, b->file != NULL);
	if(result)
		return result;
	result = cmp_int(a->line, b->line);
	if(result)
		return result;
	if(!a->file || !b->file)
		return 0;
	return strcmp(a->file, b->file);
}

config_entries_t *config_entries_new(void) {
	config_entries_t *tree = xzalloc(sizeof(*tree));
	sset_init(&tree->entries, config_entry_cmp);
	return tree;
}

static void config_free_item(void *item) {
	config_free(item);
}

void config_entries_free(config_entries_t *tree) {
	if(!tree)
		return;
	sset_clear(&tree->entries, config_free_item);
	free(tree);
}

config_t *config_new(const char *variable, const char *value, const char *file, int line) {
	config_t *cfg = xzalloc(sizeof(*cfg));
	cfg->variable = xstrdup(variable);
	cfg->value = xstrdup(value);
	cfg->file = file ? xstrdup(file) : NULL;
	cfg->line = line;
	return cfg;
}

void config_free(config_t *cfg) {
	if(!cfg)
		return;
	free(cfg->variable);
	free(cfg->value);
	free(cfg->file);
	free(cfg);
}

/* The tree takes ownership of cfg. Two entries can compare equal in two ways:
 *  - command-line entries (all on line -1) naming the same variable, e.g.
 *    "-o ConnectTo=a -o ConnectTo=b": both are kept, in the order added,
 *    which is the order tinc 1.0.36 gives them (it numbers -o options);
 *  - the same line of the same file added twice (a file read twice): the
 *    copy is dropped, as tinc's tree drops it, so a Subnet is not doubled. */
void config_entries_add(config_entries_t *tree, config_t *cfg) {
	if(!cfg)
		return;
	if(sset_insert(&tree->entries, cfg))
		return;
	if(cfg->file) {
		config_free(cfg);
		return;
	}

	/* Insert after the run of equal entries. sset only keeps unique items,
	 * so this one case manages the array itself; lower_bound, find, remove
	 * and iteration all stay correct with equal neighbours. */
	sset_t *s = &tree->entries;
	size_t i = sset_lower_bound(s, cfg);
	while(i < s->count && s->cmp(s->items[i], cfg) == 0)
		i++;
	if(s->count == s->capacity) {
		s->capacity = s->capacity ? s->capacity * 2 : 8;
		s->items = xrealloc(s->items, s->capacity * sizeof(void *));
	}
	memmove(&s->items[i + 1], &s->items[i], (s->count - i) * sizeof(void *));
	s->items[i] = cfg;
	s->count++;
}

config_t *config_first(const config_entries_t *tree, const char *variable) {
	if(!tree || !variable)
		return NULL;
	/* A key that sorts before every entry of this variable. */
	config_t key = {.variable = (char *)variable, .value = NULL, .file = NULL, .line = INT_MIN};
	size_t i = sset_lower_bound(&tree->entries, &key);
	if(i >= tree->entries.count)
		return NULL;
	config_t *found = tree->entries.items[i];
	return strcasecmp(found->variable, variable) ? NULL : found;
}

config_t *config_next(const config_entries_t *tree, const config_t *cfg) {
	if(!tree || !cfg)
		return NULL;
	const sset_t *s = &tree->entries;
	size_t i = sset_lower_bound(s, cfg);
	while(i < s->count && s->items[i] != cfg && s->cmp(s->items[i], cfg) == 0)
		i++;
	if(i >= s->count || s->items[i] != cfg || i + 1 >= s->count)
		return NULL;
	config_t *next = s->items[i + 1];
	return strcasecmp(next->variable, cfg->variable) ? NULL : next;
}

/* ---- typed getters ---- */

/* "in FILE line N" or "on the command line", for error messages. */
static const char *where(const config_t *cfg, char *buf, size_t buflen) {
	if(!cfg->file)
		return "on the command line";
	snprintf(buf, buflen, "in %s line %d", cfg->file, cfg->line);
	return buf;
}

static void expected(const config_t *cfg, const char *what) {
	char buf[PATH_MAX + 64];
	logger(VERBOSITY_ERRORS, LOG_ERR, "%s = %s %s: expected %s", cfg->variable, cfg->value,
	       where(cfg, buf, sizeof(buf)), what);
}

bool config_value_bool(const config_t *cfg, bool *result) {
	if(!cfg)
		return false;
	if(!strcasecmp(cfg->value, "yes")) {
		*result = true;
		return true;
	}
	if(!strcasecmp(cfg->value, "no")) {
		*result = false;
		return true;
	}
	expected(cfg, "yes or no");
	return false;
}

/* Like C's "%d": optional blanks and sign, then digits; whatever follows
 * is ignored ("655 # x" is 655). No digits at all is an error, and so is a
 * number that does not fit in an int. */
bool config_value_int(const config_t *cfg, int *result) {
	if(!cfg)
		return false;
	const char *p = cfg->value;
	while(*p == ' ' || *p == '\t' || *p == '\n' || *p == '\v' || *p == '\f' || *p == '\r')
		p++;
	bool negative = false;
	if(*p == '+' || *p == '-') {
		negative = *p == '-';
		p++;
	}
	if(*p < '0' || *p > '9') {
		expected(cfg, "a whole number");
		return false;
	}
	long long value = 0;
	for(; *p >= '0' && *p <= '9'; p++) {
		value = value * 10 + (*p - '0');
		if(value > (long long)INT_MAX + 1) {
			expected(cfg, "a whole number of at most 2147483647");
			return false;
		}
	}
	if(negative)
		value = -value;
	if(value > INT_MAX) {
		expected(cfg, "a whole number of at most 2147483647");
		return false;
	}
	*result = (int)value;
	return true;
}

bool config_value_string(const config_t *cfg, char **result) {
	if(!cfg)
		return false;
	*result = xstrdup(cfg->value);
	return true;
}

bool config_value_subnet(const config_t *cfg, subnet_t **result) {
	if(!cfg)
		return false;
	subnet_t parsed;
	memset(&parsed, 0, sizeof(parsed));
	if(!subnet_parse(&parsed, cfg->value)) {
		expected(cfg, "a subnet such as 10.1.0.0/16");
		return false;
	}
	/* A configured prefix like 10.1.2.3/24 is almost always a typo for
	 * 10.1.2.0/24; tinc refuses it, and so do we. */
	if(!subnet_hostbits_zero(&parsed)) {
		char buf[PATH_MAX + 64];
		logger(VERBOSITY_ERRORS, LOG_ERR, "%s = %s %s: the address has host bits set beyond the prefix; write the network address",
		       cfg->variable, cfg->value, where(cfg, buf, sizeof(buf)));
		return false;
	}
	/* Same shape as subnet_new() (zeroed, no owner): release with subnet_free().
	 * Allocated here so the config code does not depend on the subnet table. */
	subnet_t *subnet = xzalloc(sizeof(*subnet));
	*subnet = parsed;
	*result = subnet;
	return true;
}

bool conf_bool(const config_entries_t *tree, const char *var, bool *result) {
	return config_value_bool(config_first(tree, var), result);
}

bool conf_int(const config_entries_t *tree, const char *var, int *result) {
	return config_value_int(config_first(tree, var), result);
}

bool conf_string(const config_entries_t *tree, const char *var, char **result) {
	return config_value_string(config_first(tree, var), result);
}

/* ---- parsing ---- */

static bool is_blank(char c) {
	return c == ' ' || c == '\t';
}

/* Split one line (already stripped of its line end) into variable and value,
 * in place. Returns false with *problem set on a syntax error. */
static bool split_line(char *line, char **variable, char **value, const char **problem) {
	size_t len = strlen(line);
	while(len && is_blank(line[len - 1]))
		line[--len] = '\0';

	/* Leading blanks: see config_read_file. */
	char *var = line + strspn(line, " \t");
	size_t varlen = strcspn(var, " \t=");
	char *val = var + varlen;
	val += strspn(val, " \t");
	if(*val == '=') {
		val++;
		val += strspn(val, " \t");
	}
	var[varlen] = '\0';

	if(!varlen) {
		*problem = "a value without a variable name";
		return false;
	}
	*variable = var;
	*value = val;
	if(!*val) {
		*problem = "no value given for";
		return false;
	}
	return true;
}

bool config_read_file(config_entries_t *tree, const char *path) {
	FILE *fp = fopen(path, "r");
	if(!fp) {
		logger(VERBOSITY_ERRORS, LOG_ERR, "Cannot open configuration file %s: %s", path, strerror(errno));
		return false;
	}

	/* getline() takes lines of any length, so unlike tinc (which splits
	 * lines longer than 2048 bytes) a long PublicKey line stays one line. */
	char *line = NULL;
	size_t cap = 0;
	int lineno = 0;
	bool in_pem = false;
	bool ok = true;

	for(;;) {
		errno = 0;
		ssize_t got = getline(&line, &cap, fp);
		if(got < 0) {
			/* not at end of file: a read error, or no memory for the line */
			if(ferror(fp) || !feof(fp)) {
				logger(VERBOSITY_ERRORS, LOG_ERR, "Read error in configuration file %s: %s", path,
				       strerror(errno ? errno : EIO));
				ok = false;
			}
			break;
		}
		if(lineno == INT_MAX) {
			logger(VERBOSITY_ERRORS, LOG_ERR, "Configuration file %s has too many lines", path);
			ok = false;
			break;
		}
		lineno++;

		size_t len = (size_t)got;
		if(len && line[len - 1] == '\n')
			line[--len] = '\0';
		if(len && line[len - 1] == '\r')
			line[--len] = '\0';
		if(strlen(line) != len) {
			logger(VERBOSITY_ERRORS, LOG_ERR, "%s line %d: the line contains a NUL byte",
			       path, lineno);
			ok = false;
			break;
		}
		while(len && is_blank(line[len - 1]))
			line[--len] = '\0';
		/* tinc reads an indented line as an empty variable name and then
		 * silently ignores it; we read it as if it were not indented. */
		char *text = line + strspn(line, " \t");

		if(!*text || text[0] == '#')
			continue;

		/* PEM blocks (public keys in host files) are skipped up to and
		 * including their -----END line. */
		if(in_pem) {
			if(!strncmp(text, "-----END", 8))
				in_pem = false;
			continue;
		}
		if(!strncmp(text, "-----BEGIN", 10)) {
			in_pem = true;
			continue;
		}

		char *variable = NULL, *value = NULL;
		const char *problem = NULL;
		if(!split_line(text, &variable, &value, &problem)) {
			if(variable)
				logger(VERBOSITY_ERRORS, LOG_ERR, "%s line %d: %s %s",
				       path, lineno, problem, variable);
			else
				logger(VERBOSITY_ERRORS, LOG_ERR, "%s line %d: %s",
				       path, lineno, problem);
			ok = false;
			break;
		}
		config_entries_add(tree, config_new(variable, value, path, lineno));
	}

	free(line);
	fclose(fp);
	return ok;
}

static int compare_names(const void *a, const void *b) {
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static bool has_conf_suffix(const char *name) {
	size_t len = strlen(name);
	return len > 5 && !strcmp(name + len - 5, ".conf");
}

/* conf.d/NAME.conf files. tinc 1.0.36 reads them in readdir() order, which
 * depends on the file system; we sort the names (byte-wise) so the same
 * directory always gives the same configuration. */
static bool read_conf_d(config_entries_t *tree, const char *config_dir) {
	char *dirname = xasprintf("%s/conf.d", config_dir);
	DIR *dir = opendir(dirname);
	if(!dir) {
		if(errno != ENOENT && errno != ENOTDIR)
			logger(VERBOSITY_ERRORS, LOG_WARNING, "Cannot read directory %s: %s", dirname,
			       strerror(errno));
		free(dirname);
		return true;
	}

	char **names = NULL;
	size_t count = 0, cap = 0;
	struct dirent *ent;
	while((ent = readdir(dir))) {
		if(!has_conf_suffix(ent->d_name))
			continue;
		if(count == cap) {
			cap = cap ? cap * 2 : 16;
			names = xrealloc(names, cap * sizeof(*names));
		}
		names[count++] = xstrdup(ent->d_name);
	}
	closedir(dir);

	if(count)
		qsort(names, count, sizeof(*names), compare_names);

	bool ok = true;
	for(size_t i = 0; i < count; i++) {
		if(ok) {
			char *path = xasprintf("%s/%s", dirname, names[i]);
			ok = config_read_file(tree, path);
			free(path);
		}
		free(names[i]);
	}
	free(names);
	free(dirname);
	return ok;
}

bool config_read_server(config_entries_t *tree, const char *config_dir) {
	char *path = xasprintf("%s/tinc.conf", config_dir);
	bool ok = config_read_file(tree, path);
	free(path);
	return ok && read_conf_d(tree, config_dir);
}

bool config_read_host(config_entries_t *tree, const char *config_dir, const char *name) {
	/* The name becomes a path component: never let it leave hosts/. */
	if(!node_name_is_valid(name)) {
		logger(VERBOSITY_ERRORS, LOG_ERR, "Node name %s is not valid: use letters, digits and _ only", name ? name : "(none)");
		return false;
	}
	char *path = xasprintf("%s/hosts/%s", config_dir, name);
	bool ok = config_read_file(tree, path);
	free(path);
	return ok;
}

bool parse_cmdline_option(const char *arg, char **host, config_t **cfg) {
	*host = NULL;
	*cfg = NULL;
	if(!arg)
		return false;

	char *copy = xstrdup(arg);
	char *variable = NULL, *value = NULL;
	const char *problem = NULL;
	if(!split_line(copy, &variable, &value, &problem)) {
		if(variable)
			logger(VERBOSITY_ERRORS, LOG_ERR, "Option -o %s: %s %s", arg,
			       problem, variable);
		else
			logger(VERBOSITY_ERRORS, LOG_ERR, "Option -o %s: %s", arg, problem);
		free(copy);
		return false;
	}

	/* A '.' in the variable part (never in the value: Address=1.2.3.4 is a
	 * server option) separates the host name from the variable. */
	char *dot = strchr(variable, '.');
	if(dot) {
		*dot = '\0';
		const char *key = dot + 1;
		if(!node_name_is_valid(variable)) {
			logger(VERBOSITY_ERRORS, LOG_ERR, "Option -o %s: %s is not a valid node name",
			       arg, variable);
			free(copy);
			return false;
		}
		if(!*key || strchr(key, '.')) {
			logger(VERBOSITY_ERRORS, LOG_ERR, "Option -o %s: no variable name after the node name, or more than one dot",
			       arg);
			free(copy);
			return false;
		}
		*host = xstrdup(variable);
		variable = dot + 1;
	}

	*cfg = config_new(variable, value, NULL, -1);
	free(copy);
	return true;
}

bool node_name_is_valid(const char *name) {
	if(!name || !*name)
		return false;
	for(const char *p = name; *p; p++) {
		char c = *p;
		if(!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		     c == '_'))
			return false;
	}
	return true;
}
