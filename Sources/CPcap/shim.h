#ifndef SMTP_INSPECT_CPCAP_SHIM_H
#define SMTP_INSPECT_CPCAP_SHIM_H

#include <stdint.h>
#include <stdio.h>
#include <pcap/pcap.h>

/*
 * Small helpers so that Swift never sees `struct pcap_pkthdr *` or `FILE *`: PcapCapture copies
 * every field into Swift values and the C pointers stay inside these functions.
 */

/** One record as pcap_next_ex() returned it; `data` is valid until the next call. */
typedef struct cpcap_record {
    int64_t seconds;
    /** Nanoseconds when the handle was opened with PCAP_TSTAMP_PRECISION_NANO. */
    int64_t subseconds;
    uint32_t captured_length;
    uint32_t original_length;
    const u_char *data;
} cpcap_record;

/** pcap_next_ex(): 1 a record, -1 an error (pcap_geterr), -2 the end of the file. */
static inline int cpcap_next(pcap_t *handle, cpcap_record *record) {
    struct pcap_pkthdr *header = NULL;
    const u_char *data = NULL;
    int status = pcap_next_ex(handle, &header, &data);
    if (status == 1) {
        record->seconds = (int64_t)header->ts.tv_sec;
        record->subseconds = (int64_t)header->ts.tv_usec;
        record->captured_length = header->caplen;
        record->original_length = header->len;
        record->data = data;
    }
    return status;
}

/** Where the reader is in the file (for progress), or -1. */
static inline int64_t cpcap_file_offset(pcap_t *handle) {
    FILE *file = pcap_file(handle);
    return file != NULL ? (int64_t)ftello(file) : -1;
}

/** pcap_dump() with the header built here; `subseconds` as the dead handle's precision says. */
static inline void cpcap_dump(pcap_dumper_t *dumper, int64_t seconds, int64_t subseconds,
                              uint32_t captured_length, uint32_t original_length, const u_char *data) {
    struct pcap_pkthdr header;
    header.ts.tv_sec = (time_t)seconds;
    header.ts.tv_usec = (suseconds_t)subseconds;
    header.caplen = captured_length;
    header.len = original_length;
    pcap_dump((u_char *)dumper, &header, data);
}

/** Non-zero when a write to the dump file failed (stdio error indicator). */
static inline int cpcap_dump_failed(pcap_dumper_t *dumper) {
    FILE *file = pcap_dump_file(dumper);
    return file != NULL ? ferror(file) : 1;
}

/** Clears the dump file's stdio error indicator, so that the next failure (or success) is seen. */
static inline void cpcap_dump_clear_error(pcap_dumper_t *dumper) {
    FILE *file = pcap_dump_file(dumper);
    if (file != NULL) clearerr(file);
}

#endif
