/* Delta encoding of a text against a reference text (the dictionary).
 *
 * The objects of one store are near copies of each other: same kind, same
 * shape, mostly the same keys and values (a fleet of 10,000 Accounts differs
 * in names, ids and timestamps). A compact store keeps each object as the
 * runs it shares with the store's reference object plus the bytes it does
 * not share: LZ77 with an external dictionary, no entropy coding, so that
 * decoding is a few memcpy calls before the JSON decoder runs.
 *
 * Hand-written rather than zlib or zstd with a preset dictionary: neither
 * is among the operator's dependencies, and both would inflate through an
 * entropy decoder on every read of a cached object, where this is a few
 * copies (reads outnumber writes by far in a steady fleet).
 *
 * Encoding: varint raw length, then { varint literal count, the literal
 * bytes, [varint match length, varint dictionary offset] } until the raw
 * length is reached (a match follows every literal run but the last). */
#ifndef PKG_CACHE_DELTA_H
#define PKG_CACHE_DELTA_H

#include <stddef.h>

struct delta_dict;

/* A dictionary holding a copy of text[0..len). */
struct delta_dict *delta_dict_new(const char *text, size_t len);
void delta_dict_free(struct delta_dict *d);

/* text[0..len) encoded against d: a new allocation of *out_len bytes. */
unsigned char *delta_encode(const struct delta_dict *d, const char *text,
                            size_t len, size_t *out_len);

/* The raw length an encoding decodes to, or (size_t)-1 if malformed. */
size_t delta_raw_len(const unsigned char *enc, size_t enc_len);

/* Decode into out (room for delta_raw_len bytes); 0, or OP_EINVAL for a
 * malformed encoding (out is then undefined). */
int delta_decode(const struct delta_dict *d, const unsigned char *enc,
                 size_t enc_len, char *out);

#endif
