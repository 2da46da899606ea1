/* runfctl stack deploy|rm -f FILE (also `runfctl deploy -f` and `runfctl rm
 * -f`, as faas-cli has them): the functions of a faas-cli stack file,
 * read with libyaml, deployed (or replaced) and removed through runfd.
 *
 * faas-cli's keys of a function are read (image, fprocess, environment,
 * environment_file, secrets, limits, requests, labels, annotations,
 * constraints, namespace, readonly_root_filesystem; lang, handler,
 * skip_build and build_options are for building and are passed over),
 * and runf's own (mode, network, requests-per-instance, min, max, timeout,
 * concurrency).  A key that is neither is an error naming the key and its
 * line: a typo never deploys a function without what it meant. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <yaml.h>

#include "common/cleanup.h"
#include "common/fnname.h"
#include "common/jsonutil.h"
#include "runfctl.h"

enum { O_FILE = 'f' };

static const runfctl_option_t stack_options[] = {
  { "file", O_FILE, required_argument, "FILE", "the stack file, faas-cli's stack.yml (required)" },
  RUNFCTL_API_OPTIONS,
  RUNFCTL_OPTIONS_END,
};

typedef struct
{
  const char *file;
  yaml_document_t doc;
} stack_t;

static int
fail_at (const stack_t *st, const yaml_node_t *n, rf_error_t *err, const char *fmt, ...)
  __attribute__ ((format (printf, 4, 5)));

static int
fail_at (const stack_t *st, const yaml_node_t *n, rf_error_t *err, const char *fmt, ...)
{
  cleanup_free char *msg = NULL;
  va_list ap;
  va_start (ap, fmt);
  msg = xvasprintf (fmt, ap);
  va_end (ap);
  return rf_error_make (err, 0, "%s:%lu: %s", st->file, (unsigned long) n->start_mark.line + 1, msg);
}

static const char *
scalar (const yaml_node_t *n)
{
  return n && n->type == YAML_SCALAR_NODE ? (const char *) n->data.scalar.value : NULL;
}

static yaml_node_t *
node (stack_t *st, int id)
{
  return yaml_document_get_node (&st->doc, id);
}

static bool
one_of (const char *key, const char *const *names)
{
  for (; *names; names++)
    if (strcmp (key, *names) == 0)
      return true;
  return false;
}

/* Each key of a mapping must be one of names. */
static int
check_keys (stack_t *st, yaml_node_t *map, const char *where, const char *const *names, rf_error_t *err)
{
  for (yaml_node_pair_t *p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top; p++)
    {
      yaml_node_t *k = node (st, p->key);
      const char *key = scalar (k);
      if (key == NULL)
        return fail_at (st, k, err, "%s: a key must be a plain name", where);
      if (!one_of (key, names))
        return fail_at (st, k, err, "%s%s%s: not a key runfctl knows", where, *where ? "." : "", key);
    }
  return 0;
}

static int
expect (stack_t *st, yaml_node_t *n, yaml_node_type_t type, const char *what, rf_error_t *err)
{
  static const char *const names[] = { "", "a string", "a list", "a mapping" };
  if (n->type != type)
    return fail_at (st, n, err, "%s: expected %s", what, names[type]);
  return 0;
}

/* A mapping of strings into obj[key] (merged: later ones win). */
static int
string_map (stack_t *st, yaml_node_t *map, const char *what, json_t *obj, rf_error_t *err)
{
  if (expect (st, map, YAML_MAPPING_NODE, what, err) < 0)
    return -1;
  for (yaml_node_pair_t *p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top; p++)
    {
      yaml_node_t *k = node (st, p->key), *v = node (st, p->value);
      if (scalar (k) == NULL || scalar (v) == NULL)
        return fail_at (st, scalar (k) ? v : k, err, "%s: expected NAME: VALUE, strings", what);
      json_object_set_new (obj, scalar (k), json_string (scalar (v)));
    }
  return 0;
}

static int
string_list (stack_t *st, yaml_node_t *seq, const char *what, json_t **out, rf_error_t *err)
{
  if (expect (st, seq, YAML_SEQUENCE_NODE, what, err) < 0)
    return -1;
  *out = json_array ();
  for (yaml_node_item_t *i = seq->data.sequence.items.start; i < seq->data.sequence.items.top; i++)
    {
      yaml_node_t *v = node (st, *i);
      if (scalar (v) == NULL)
        return fail_at (st, v, err, "%s: expected a list of strings", what);
      json_array_append_new (*out, json_string (scalar (v)));
    }
  return 0;
}

static int
load_yaml (const char *path, yaml_document_t *doc, rf_error_t *err)
{
  yaml_parser_t parser;
  cleanup_fclose FILE *f = fopen (path, "re");
  if (f == NULL)
    return rf_error_sys (err, "`%s`", path);
  yaml_parser_initialize (&parser);
  yaml_parser_set_input_file (&parser, f);
  if (!yaml_parser_load (&parser, doc))
    {
      rf_error_make (err, 0, "%s:%lu: %s%s%s", path, (unsigned long) parser.problem_mark.line + 1,
                     parser.problem ? parser.problem : "not YAML", parser.context ? " " : "",
                     parser.context ? parser.context : "");
      yaml_parser_delete (&parser);
      return -1;
    }
  yaml_parser_delete (&parser);
  if (yaml_document_get_root_node (doc) == NULL)
    {
      yaml_document_delete (doc);
      return rf_error_make (err, 0, "%s: empty", path);
    }
  return 0;
}

/* environment_file: YAML files of `environment:`, relative to the stack
   file, each overriding what came before. */
static int
environment_file (stack_t *st, yaml_node_t *v, json_t *env, rf_error_t *err)
{
  cleanup_json json_t *files = NULL;
  cleanup_free char *dir = xstrdup (st->file);
  char *slash = strrchr (dir, '/');
  size_t i;
  json_t *f;
  static const char *const keys[] = { "environment", NULL };

  if (slash)
    slash[1] = '\0';
  else
    strcpy (dir, "");
  if (string_list (st, v, "environment_file", &files, err) < 0)
    return -1;
  json_array_foreach (files, i, f)
    {
      const char *name = json_string_value (f);
      cleanup_free char *path = name[0] == '/' ? xstrdup (name) : xasprintf ("%s%s", dir, name);
      stack_t sub = { .file = path };
      yaml_node_t *root;
      int r = 0;
      if (load_yaml (path, &sub.doc, err) < 0)
        return rf_error_wrap (err, "%s: environment_file", st->file);
      root = yaml_document_get_root_node (&sub.doc);
      if (expect (&sub, root, YAML_MAPPING_NODE, "the file", err) < 0 || check_keys (&sub, root, "", keys, err) < 0)
        r = -1;
      for (yaml_node_pair_t *p = root->data.mapping.pairs.start; r == 0 && p < root->data.mapping.pairs.top; p++)
        r = string_map (&sub, node (&sub, p->value), "environment", env, err);
      yaml_document_delete (&sub.doc);
      if (r < 0)
        return -1;
    }
  return 0;
}

static int
resources (stack_t *st, yaml_node_t *v, const char *what, json_t *req, rf_error_t *err)
{
  static const char *const keys[] = { "memory", "cpu", NULL };
  json_t *obj = json_object ();
  json_object_set_new (req, what, obj);
  if (expect (st, v, YAML_MAPPING_NODE, what, err) < 0 || check_keys (st, v, what, keys, err) < 0)
    return -1;
  return string_map (st, v, what, obj, err);
}

static const char *const function_keys[] = {
  /* faas-cli's */
  "lang", "handler", "image", "fprocess", "environment", "environment_file", "secrets", "limits", "requests",
  "labels", "annotations", "constraints", "namespace", "readonly_root_filesystem", "skip_build", "build_options",
  /* runf's */
  "mode", "network", "egress", "requests-per-instance", "min", "max", "timeout", "concurrency", NULL,
};

/* One function of the stack as a deploy request. */
static json_t *
function_request (stack_t *st, const char *name, yaml_node_t *fnode, rf_error_t *err)
{
  cleanup_json json_t *req = json_pack ("{s:s}", "service", name);
  json_t *env = json_object ();
  yaml_node_t *env_node = NULL, *env_file = NULL;

  json_object_set_new (req, "envVars", env);
  if (expect (st, fnode, YAML_MAPPING_NODE, name, err) < 0 || check_keys (st, fnode, name, function_keys, err) < 0)
    return NULL;
  for (yaml_node_pair_t *p = fnode->data.mapping.pairs.start; p < fnode->data.mapping.pairs.top; p++)
    {
      const char *key = scalar (node (st, p->key));
      yaml_node_t *v = node (st, p->value);
      cleanup_free char *what = xasprintf ("%s.%s", name, key);
      json_t *list = NULL;
      if (strcmp (key, "environment") == 0)
        env_node = v;
      else if (strcmp (key, "environment_file") == 0)
        env_file = v;
      else if (strcmp (key, "secrets") == 0 || strcmp (key, "constraints") == 0)
        {
          if (string_list (st, v, what, &list, err) < 0)
            return NULL;
          json_object_set_new (req, key, list);
        }
      else if (strcmp (key, "labels") == 0 || strcmp (key, "annotations") == 0)
        {
          json_t *map = json_object ();
          json_object_set_new (req, key, map);
          if (string_map (st, v, what, map, err) < 0)
            return NULL;
        }
      else if (strcmp (key, "limits") == 0 || strcmp (key, "requests") == 0)
        {
          if (resources (st, v, key, req, err) < 0)
            return NULL;
        }
      else if (strcmp (key, "lang") == 0 || strcmp (key, "handler") == 0 || strcmp (key, "skip_build") == 0
               || strcmp (key, "build_options") == 0)
        continue; /* building's, not deploying's */
      else if (scalar (v) == NULL)
        return fail_at (st, v, err, "%s: expected a single value", what), NULL;
      else if (strcmp (key, "image") == 0 || strcmp (key, "mode") == 0 || strcmp (key, "network") == 0
               || strcmp (key, "egress") == 0 || strcmp (key, "timeout") == 0 || strcmp (key, "namespace") == 0)
        json_object_set_new (req, key, json_string (scalar (v)));
      else if (strcmp (key, "fprocess") == 0)
        json_object_set_new (req, "envProcess", json_string (scalar (v)));
      else if (strcmp (key, "readonly_root_filesystem") == 0)
        {
          const char *b = scalar (v);
          if (strcasecmp (b, "true") == 0 || strcasecmp (b, "yes") == 0)
            json_object_set_new (req, "readOnlyRootFilesystem", json_true ());
          else if (strcasecmp (b, "false") != 0 && strcasecmp (b, "no") != 0)
            return fail_at (st, v, err, "%s: expected true or false", what), NULL;
          /* false is faas-cli's default, and what it leaves out. */
        }
      else
        {
          /* min, max, concurrency, requests-per-instance: whole numbers. */
          char *end;
          long long n = strtoll (scalar (v), &end, 10);
          const char *field = strcmp (key, "requests-per-instance") == 0 ? "requestsPerInstance" : key;
          if (*scalar (v) == '\0' || *end || n < 0 || n > 1000000)
            return fail_at (st, v, err, "%s: expected a whole number", what), NULL;
          json_object_set_new (req, field, json_integer (n));
        }
    }
  if (json_object_get (req, "image") == NULL)
    return fail_at (st, fnode, err, "%s: image: missing (build it with runfctl image build)", name), NULL;
  /* faas-cli's order: the environment, then each file over it. */
  if (env_node && string_map (st, env_node, "environment", env, err) < 0)
    return NULL;
  if (env_file && environment_file (st, env_file, env, err) < 0)
    return NULL;
  return json_incref (req);
}

static bool
wanted_p (const char *name, int argc, char **argv)
{
  if (optind >= argc)
    return true;
  for (int i = optind; i < argc; i++)
    if (strcmp (argv[i], name) == 0)
      return true;
  return false;
}

static const char *const top_keys[] = { "version", "provider", "functions", "configuration", NULL };
static const char *const provider_keys[] = { "name", "gateway", "network", NULL };

static int
run (runfctl_t *g, int argc, char **argv, bool remove, rf_error_t *err)
{
  const char *cmd = remove ? "stack rm" : "stack deploy";
  stack_t st = { 0 };
  yaml_node_t *root, *functions = NULL;
  int c, ret = -1;

  while ((c = runfctl_getopt (g, argc, argv, cmd, stack_options, err)) != -1)
    {
      if (c == '?' || runfctl_api_option (c, err) < 0)
        return -1;
      if (c == O_FILE)
        st.file = optarg;
    }
  if (st.file == NULL)
    return rf_error_make (err, 0, "%s: missing -f FILE (the stack file)", cmd);
  if (load_yaml (st.file, &st.doc, err) < 0)
    return rf_error_wrap (err, "%s", cmd);
  root = yaml_document_get_root_node (&st.doc);
  if (expect (&st, root, YAML_MAPPING_NODE, "the stack", err) < 0 || check_keys (&st, root, "", top_keys, err) < 0)
    goto out;
  for (yaml_node_pair_t *p = root->data.mapping.pairs.start; p < root->data.mapping.pairs.top; p++)
    {
      const char *key = scalar (node (&st, p->key));
      yaml_node_t *v = node (&st, p->value);
      if (strcmp (key, "functions") == 0)
        functions = v;
      else if (strcmp (key, "provider") == 0
               && (expect (&st, v, YAML_MAPPING_NODE, "provider", err) < 0
                   || check_keys (&st, v, "provider", provider_keys, err) < 0))
        goto out;
    }
  if (functions == NULL || expect (&st, functions, YAML_MAPPING_NODE, "functions", err) < 0)
    {
      if (functions == NULL)
        rf_error_make (err, 0, "%s: no functions", st.file);
      goto out;
    }
  /* Every function is read and checked before the first is deployed. */
  {
    size_t n = (size_t) (functions->data.mapping.pairs.top - functions->data.mapping.pairs.start), k = 0;
    json_t **reqs = xzalloc ((n + 1) * sizeof *reqs);
    for (yaml_node_pair_t *p = functions->data.mapping.pairs.start; p < functions->data.mapping.pairs.top; p++)
      {
        yaml_node_t *kn = node (&st, p->key);
        const char *name = scalar (kn);
        if (name == NULL || !rf_function_name_valid_p (name))
          {
            fail_at (&st, kn, err, "`%.64s`: a function name is 1-63 of a-z 0-9 - _, starting with a letter or digit",
                     name ? name : "");
            goto free_reqs;
          }
        if (!wanted_p (name, argc, argv))
          continue;
        if ((reqs[k] = function_request (&st, name, node (&st, p->value), err)) == NULL)
          goto free_reqs;
        k++;
      }
    for (int i = optind; i < argc; i++)
      {
        bool found = false;
        for (size_t j = 0; j < k; j++)
          found |= strcmp (json_string_value (json_object_get (reqs[j], "service")), argv[i]) == 0;
        if (!found)
          {
            rf_error_make (err, 0, "%s: `%s` is not a function of %s", cmd, argv[i], st.file);
            goto free_reqs;
          }
      }
    for (size_t j = 0; j < k; j++)
      {
        const char *name = json_string_value (json_object_get (reqs[j], "service"));
        cleanup_free char *text = NULL;
        cleanup_free char *path = xasprintf ("/system/function/%s", name);
        cleanup_json json_t *res = NULL;
        cleanup_json json_t *existing = NULL;
        rf_error_t ignored = NULL;
        if (remove)
          {
            json_t *del = json_pack ("{s:s}", "functionName", name);
            text = json_dumps (del, JSON_COMPACT);
            json_decref (del);
            res = runfctl_api_json (cmd, "DELETE", "/system/functions", text, NULL, err);
            if (res == NULL)
              goto free_reqs;
            printf ("%s: removed\n", name);
            continue;
          }
        /* As faas-cli deploys: a function that exists is replaced. */
        existing = runfctl_api_json (cmd, "GET", path, NULL, NULL, &ignored);
        rf_error_free (&ignored);
        text = json_dumps (reqs[j], JSON_COMPACT);
        res = runfctl_api_json (cmd, existing ? "PUT" : "POST", "/system/functions", text, NULL, err);
        if (res == NULL)
          {
            rf_error_wrap (err, "function `%s`", name);
            goto free_reqs;
          }
        {
          json_int_t port = json_integer_value (json_object_get (res, "port"));
          const char *addr = json_string_value (json_object_get (res, "address"));
          if (port == 80)
            printf ("%s: %s http://%s/\n", name, existing ? "updated" : "deployed", addr);
          else
            printf ("%s: %s http://%s:%lld/\n", name, existing ? "updated" : "deployed", addr, (long long) port);
        }
      }
    ret = 0;
  free_reqs:
    for (size_t j = 0; j < n; j++)
      if (reqs[j])
        json_decref (reqs[j]);
    free (reqs);
  }
out:
  yaml_document_delete (&st.doc);
  return ret;
}

static int
stack_deploy (runfctl_t *g, int argc, char **argv, rf_error_t *err)
{
  return run (g, argc, argv, false, err);
}

static int
stack_rm (runfctl_t *g, int argc, char **argv, rf_error_t *err)
{
  return run (g, argc, argv, true, err);
}

static const runfctl_command_t stack_commands[] = {
  { "deploy", stack_deploy, "[NAME...]",
    "deploy the functions of a faas-cli stack file (all, or those named); one that exists is replaced",
    stack_options,
    "Also `runfctl deploy -f FILE`.  faas-cli's keys (image, fprocess, environment,\n"
    "environment_file, secrets, limits, requests, labels, annotations, constraints,\n"
    "namespace, readonly_root_filesystem) and runf's (mode, network,\n"
    "requests-per-instance, min, max, timeout, concurrency) are read; lang, handler,\n"
    "skip_build and build_options are for building.  Any other key is an error.\n" },
  { "rm", stack_rm, "[NAME...]", "remove the functions of a stack file (all, or those named)", stack_options,
    "Also `runfctl rm -f FILE`.\n" },
};

const runfctl_group_t runfctl_stack_group = {
  "stack", stack_commands, ARRAY_SIZE (stack_commands),
  "faas-cli stack files: deploy and remove their functions (also runfctl deploy|rm -f FILE)",
};
