/* OCI and Docker schema 2 manifests, indexes (manifest lists) and image
 * configs: parsed from untrusted bytes, every field checked, errors naming
 * the field ("layers[2].digest: ..."). */
#ifndef RF_IMAGE_MANIFEST_H
#define RF_IMAGE_MANIFEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "common/error.h"

#define RF_MT_OCI_MANIFEST "application/vnd.oci.image.manifest.v1+json"
#define RF_MT_OCI_INDEX "application/vnd.oci.image.index.v1+json"
#define RF_MT_OCI_CONFIG "application/vnd.oci.image.config.v1+json"
#define RF_MT_OCI_LAYER "application/vnd.oci.image.layer.v1.tar"
#define RF_MT_OCI_LAYER_GZIP "application/vnd.oci.image.layer.v1.tar+gzip"
#define RF_MT_OCI_LAYER_ZSTD "application/vnd.oci.image.layer.v1.tar+zstd"
#define RF_MT_DOCKER_MANIFEST "application/vnd.docker.distribution.manifest.v2+json"
#define RF_MT_DOCKER_LIST "application/vnd.docker.distribution.manifest.list.v2+json"
#define RF_MT_DOCKER_CONFIG "application/vnd.docker.container.image.v1+json"
#define RF_MT_DOCKER_LAYER_GZIP "application/vnd.docker.image.rootfs.diff.tar.gzip"

/* A manifest bigger than this is refused before it is parsed. */
#define RF_MANIFEST_MAX (4 * 1024 * 1024)
/* Image configs are JSON too; generous for images with long histories. */
#define RF_CONFIG_MAX (16 * 1024 * 1024)

typedef enum
{
  RF_KIND_UNKNOWN,
  RF_KIND_MANIFEST, /* OCI image manifest or Docker schema 2 manifest */
  RF_KIND_INDEX,    /* OCI index or Docker manifest list */
} rf_manifest_kind_t;

typedef enum
{
  RF_COMPRESSION_NONE,
  RF_COMPRESSION_GZIP,
  RF_COMPRESSION_ZSTD,
} rf_compression_t;

typedef struct
{
  char *os;
  char *architecture;
  char *variant; /* NULL when not given */
} rf_platform_t;

typedef struct
{
  char *media_type;
  char *digest;
  int64_t size;
  bool has_platform;
  rf_platform_t platform;
  char *ref_name;   /* annotation org.opencontainers.image.ref.name */
  char *image_name; /* annotation io.containerd.image.name */
} rf_descriptor_t;

typedef struct
{
  char *media_type; /* of the manifest itself */
  rf_descriptor_t config;
  rf_descriptor_t *layers;
  size_t n_layers;
  rf_compression_t *compression; /* per layer, from its media type */
} rf_manifest_t;

typedef struct
{
  char *media_type;
  rf_descriptor_t *manifests;
  size_t n_manifests;
} rf_index_t;

typedef struct
{
  char *created, *author, *os, *architecture, *variant;
  char **entrypoint, **cmd, **env; /* NULL when absent */
  char *working_dir, *user, *stop_signal;
  char **labels; /* key, value, ..., NULL */
  char **diff_ids;
  size_t n_diff_ids;
} rf_image_config_t;

/* What a manifest document is: from its mediaType field, else from the
   Content-Type it came with, else from its shape.  Unknown and Docker
   schema 1 documents are errors that name the media type. */
int rf_manifest_kind (const char *buf, size_t len, const char *content_type,
                      rf_manifest_kind_t *kind, rf_error_t *err);
int rf_manifest_parse (const char *buf, size_t len, rf_manifest_t *out, rf_error_t *err);
void rf_manifest_clear (rf_manifest_t *m);
int rf_index_parse (const char *buf, size_t len, rf_index_t *out, rf_error_t *err);
void rf_index_clear (rf_index_t *idx);
int rf_image_config_parse (const char *buf, size_t len, rf_image_config_t *out,
                           rf_error_t *err);
void rf_image_config_clear (rf_image_config_t *c);

/* "os/arch[/variant]"; a missing variant matches any, and architectures
   have docker's default variants (arm64 = arm64/v8, arm = arm/v7). */
int rf_platform_parse (const char *s, rf_platform_t *out, rf_error_t *err);
void rf_platform_clear (rf_platform_t *p);
/* The platform runfctl runs on (linux/<arch of this build>). */
void rf_platform_host (rf_platform_t *out);
bool rf_platform_match_p (const rf_platform_t *want, const rf_platform_t *have);
char *rf_platform_string (const rf_platform_t *p);
/* The index entry for a platform; the error lists the platforms there are. */
int rf_index_select (const rf_index_t *idx, const rf_platform_t *want,
                     const rf_descriptor_t **out, rf_error_t *err);

/* Whether a layer media type is one runfctl can unpack, and its compression. */
int rf_layer_media_type (const char *media_type, rf_compression_t *out);
/* A manifest's JSON built from parts (for docker-save images, which have
   none): OCI media types, stable key order. Owned by the caller. */
char *rf_manifest_build (const rf_descriptor_t *config, const rf_descriptor_t *layers,
                         size_t n_layers, size_t *len);
void rf_descriptor_clear (rf_descriptor_t *d);

#endif
