/* Linux capabilities by the names of the OCI spec ("CAP_CHOWN"), and the
 * highest one runf and the running kernel know.  Applying the sets to a
 * process is linux/caps.h. */
#ifndef RF_CAPNAMES_H
#define RF_CAPNAMES_H

/* The number of a "CAP_CHOWN"-style name, or -1 when unknown. */
int rf_cap_from_name (const char *name);
const char *rf_cap_name (int cap);
/* The highest capability runf knows by name (the kernel may know fewer). */
int rf_cap_max_known (void);
/* The highest capability the running kernel knows. */
int rf_cap_last (void);

#endif
