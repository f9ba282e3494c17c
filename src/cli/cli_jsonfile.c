/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * --jsonfile F of start and define: the file (often /dev/stdin, as libvirt passes it) read
 * and parsed as mdevctl reads it, with its messages: "Unable to read jsonfile "F"" and the
 * cause when it cannot be read (or is not UTF-8), serde_json's message when it is not JSON;
 * then, as a separate step (mdevctl checks the parent in between), load_from_json()'s
 * ("invalid json", ...) when it is no device definition. At most DEFINITION_MAX_FILE_SIZE
 * bytes are read.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/cli_jsonfile.h"
#include "mgmt/persist/mdevctl_json.h"

static int read_error(const char *path, const char *cause)
{
	char quoted[4200];

	cli_debug_path(path, quoted, sizeof(quoted));
	return cli_error("Unable to read jsonfile %s\n\nCaused by:\n    %s", quoted, cause);
}

int cli_read_jsonfile(const char *path, struct json_object **ret_val)
{
	struct json_object *val = NULL;
	char cause[160], *buf;
	size_t len = 0;
	int fd, ret = 0;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		snprintf(cause, sizeof(cause), "%s (os error %d)", strerror(errno), errno);
		return read_error(path, cause);
	}
	buf = malloc(DEFINITION_MAX_FILE_SIZE + 1);
	while (buf) {
		ssize_t n = read(fd, buf + len, DEFINITION_MAX_FILE_SIZE + 1 - len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			snprintf(cause, sizeof(cause), "%s (os error %d)", strerror(errno), errno);
			ret = read_error(path, cause);
			break;
		}
		if (!n)
			break;
		len += (size_t)n;
		if (len > DEFINITION_MAX_FILE_SIZE) {
			snprintf(cause, sizeof(cause), "file is larger than %d bytes",
				 DEFINITION_MAX_FILE_SIZE);
			ret = read_error(path, cause);
			break;
		}
	}
	close(fd);
	if (!buf)
		return cli_error("%s", strerror(ENOMEM));
	if (!ret && mdevctl_json_parse(buf, len, &val, cause, sizeof(cause))) {
		/* Rust refuses a file that is not UTF-8 while reading it */
		ret = strcmp(cause, "stream did not contain valid UTF-8") ? cli_error("%s", cause)
									    : read_error(path, cause);
	}
	free(buf);
	if (ret)
		json_object_put(val);
	else
		*ret_val = val;
	return ret;
}

int cli_jsonfile_definition(struct json_object *val, struct mdev_definition *def)
{
	char why[512];

	if (definition_from_json(val, def, why, sizeof(why)))
		return cli_error("%s", why);
	return 0;
}

struct json_object *cli_attrs_json(const struct mdev_definition *def)
{
	struct json_object *attrs = json_object_new_array();

	for (size_t i = 0; attrs && i < def->nattrs; i++) {
		struct json_object *a = json_object_new_object();

		json_object_object_add(a, def->attrs[i].name,
				       json_object_new_string(def->attrs[i].value));
		json_object_array_add(attrs, a);
	}
	return attrs;
}
