/* The files of `runfctl fn new`'s templates, compiled in from
 * share/runf/templates/LANG/ (scripts/embed-templates.sh). */
#ifndef RUNFCTL_TEMPLATES_H
#define RUNFCTL_TEMPLATES_H

typedef struct
{
  const char *lang;
  const char *name;
  int mode;
  const char *text; /* "__NAME__" is the function's name */
} runfctl_template_file_t;

/* Ends with an entry whose lang is NULL. */
extern const runfctl_template_file_t runfctl_template_files[];

#endif
