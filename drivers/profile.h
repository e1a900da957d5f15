/* SPDX-License-Identifier: MIT */
/*
 * profile.h - device profiles: the one description of a controller's Modbus register map,
 * read by the drivers (to scan, identify, read and diagnose a unit) and by the simulator (to
 * be that unit).
 *
 * A profile is a JSON file under drivers/profiles/ (format in docs/profiles.md). Loading it
 * checks everything a driver or the simulator relies on - types, widths, address overlaps,
 * scales, the event log layout, references between sections, unknown keys - and builds an
 * immutable in-memory model. After loading, every pointer in the model stays valid and
 * unchanged until the profile (or the set that owns it) is freed, so several threads may read
 * one profile at the same time without locking.
 *
 * Everything a caller may read is in the structs below; treat them as read-only. Fields may
 * be added at the end of a struct in later versions; none will be removed or change meaning.
 *
 * Conventions every acsfield profile follows (the loader enforces them):
 *   - input register 0 (PROFILE_MODEL_CODE_ADDRESS) holds the model code (u16), so that a unit
 *     that does not answer FC 43/14 can still be identified by one register read;
 *   - register names are unique across the four tables, [a-z][a-z0-9_]*, at most
 *     PROFILE_NAME_MAX bytes;
 *   - finding codes (faults, rules, the corrupt-log finding) match ^[A-Z][A-Z0-9_]{1,63}$
 *     (the check of diag_finding.code in the database).
 *
 * Errors follow core/acs_error.h: 0 or a negative ACS_E* code, and a sentence in the caller's
 * buffer naming the file, the JSON path and the reason, e.g.
 *   drivers/profiles/tc200.json: registers[12].type: unknown type "u17" (u16, i16, u32, i32,
 *   float32, string, bitfield, bool)
 */
#ifndef ACS_PROFILE_H
#define ACS_PROFILE_H

#include <stddef.h>
#include <stdint.h>

/* Longest register, bit, enumeration value, event, field or action name, in bytes. */
#define PROFILE_NAME_MAX 48
/* Longest string register, in bytes (characters); it takes (length + 1) / 2 registers. */
#define PROFILE_STRING_MAX 64
/* Most fields in one event log record (including seq, timestamp and code). */
#define PROFILE_EVENT_FIELDS_MAX 16
/* Most words in one event log record, checksum included. */
#define PROFILE_EVENT_WORDS_MAX 32
/* Input register holding the u16 model code in every acsfield profile. */
#define PROFILE_MODEL_CODE_ADDRESS 0
/* Environment variable naming the profile folder; overrides ACS_PROFILE_DIR. */
#define PROFILE_ENV "ACS_PROFILES"

/* The four Modbus data tables, in the order of the Modbus specification. */
typedef enum {
    PROFILE_COIL = 0,            /* 1 bit, read FC 01, written FC 05 / 15; JSON "coil" */
    PROFILE_DISCRETE_INPUT = 1,  /* 1 bit, read-only, FC 02; JSON "discrete_input" */
    PROFILE_INPUT_REGISTER = 2,  /* 16 bits, read-only, FC 04; JSON "input" */
    PROFILE_HOLDING_REGISTER = 3 /* 16 bits, FC 03, written FC 06 / 16; JSON "holding" */
} profile_table_t;
#define PROFILE_NTABLES 4

/* Value types. bool only in the bit tables; every other type only in the register tables. */
typedef enum {
    PROFILE_T_BOOL = 0,
    PROFILE_T_U16,
    PROFILE_T_I16,     /* two's complement */
    PROFILE_T_U32,     /* 2 registers, in word_order */
    PROFILE_T_I32,     /* 2 registers, in word_order, two's complement */
    PROFILE_T_FLOAT32, /* 2 registers, IEEE 754 binary32, in word_order */
    PROFILE_T_STRING,  /* length bytes, 2 per register, first character in the high byte;
                          padded with NUL (spaces are also stripped when decoding) */
    PROFILE_T_BITFIELD /* 1 register, each named bit a flag */
} profile_type_t;

/* Order of the two registers of a 32-bit value. Bytes inside a register are always
 * big-endian (Modbus). float32 12.5 = 0x41480000: high_first 0x4148 0x0000, low_first
 * 0x0000 0x4148. */
typedef enum {
    PROFILE_HIGH_FIRST = 0, /* JSON "high_first" (the default) */
    PROFILE_LOW_FIRST = 1   /* JSON "low_first" */
} profile_word_order_t;

typedef enum {
    PROFILE_ACCESS_R = 0, /* read-only; always so for discrete inputs and input registers */
    PROFILE_ACCESS_RW = 1 /* the master may write it (coils and holding registers only) */
} profile_access_t;

typedef enum {
    PROFILE_SEV_INFO = 0,
    PROFILE_SEV_WARNING = 1,
    PROFILE_SEV_CRITICAL = 2
} profile_severity_t;

/*
 * Safety class of an action, which decides what the user interface demands before running it:
 *   safe       - no effect on who can pass (beep, LED test): may run without confirmation;
 *   access     - opens a passage once (unlock entry/exit once): the engineer confirms, and
 *                the session records it;
 *   disruptive - changes how the device controls access or interrupts it (free passage,
 *                locked, reboot): the engineer confirms with a reason, which is recorded.
 */
typedef enum {
    PROFILE_SAFETY_SAFE = 0,
    PROFILE_SAFETY_ACCESS = 1,
    PROFILE_SAFETY_DISRUPTIVE = 2
} profile_safety_t;

/* One named bit of a bitfield register. */
typedef struct {
    const char *name;
    unsigned bit; /* 0 = least significant bit of the register, up to 15 */
    const char *description;
} profile_bit_t;

/* One named value of an enumeration (an integer register with "values"). */
typedef struct {
    int64_t value; /* the raw register value */
    const char *name;
    const char *description;
} profile_enum_t;

/*
 * One register (or bit) of the map, or one field of an event log record. For a record field,
 * table is PROFILE_INPUT_REGISTER and address is the word offset inside the record.
 */
typedef struct {
    const char *name;
    profile_table_t table;
    uint16_t address; /* first register / bit, 0-based protocol address */
    uint16_t words;   /* registers it spans (1 for bits, 2 for 32-bit types) */
    profile_type_t type;
    profile_word_order_t word_order; /* meaningful for u32, i32, float32 */
    double scale;                    /* engineering value = raw * scale; 1 unless given; never 0 */
    const char *unit;                /* "V", "mA", "C", "s", ...; "" when none */
    profile_access_t access;
    const char *description;   /* "" when none */
    size_t length;             /* string: its length in bytes; 0 otherwise */
    const profile_bit_t *bits; /* bitfield: its named bits, by ascending bit; else NULL */
    size_t nbits;
    const profile_enum_t *values; /* enumeration values in file order; NULL if not an enum */
    size_t nvalues;
    int has_min, has_max; /* writable limits in engineering units ("min", "max") */
    double min, max;
    int64_t default_raw;      /* "default" as a raw value (the simulator's power-on value),
                                 0 unless given; unused for strings */
    const char *default_text; /* string registers: "default" or "" */
    size_t index;             /* position in the profile's regs[]; for a record field, in
                                 event_log.fields[] (and so in decode_event_t.fields[]) */
} profile_reg_t;

/*
 * A device-reported fault: a bit of a bitfield register, or a bool coil / discrete input, that
 * the firmware sets when something is wrong. The finding fires when the bit equals
 * active_value (1 unless the file says "active": false).
 */
typedef struct {
    const char *code; /* finding code, e.g. "TC_MOTOR_OVERCURRENT" */
    profile_severity_t severity;
    const char *title;  /* short sentence: "Motor over-current" */
    const char *advice; /* what the engineer should do */
    const profile_reg_t *reg;
    const profile_bit_t *bit; /* the bit of a bitfield register; NULL for a bool register */
    int active_value;
} profile_fault_t;

/* Kinds of health rule over decoded values. */
typedef enum {
    PROFILE_RULE_THRESHOLD = 0, /* fires when value < min or value > max (strict; either
                                   bound may be absent) */
    PROFILE_RULE_RATE = 1,      /* needs two readings: fires when (now - before) / hours is
                                   < min or > max; a counter that went down is not rated */
    PROFILE_RULE_DECREASE = 2,  /* needs two readings: fires when the value went down (a
                                   counter reset, uptime restarted: the unit rebooted) */
    PROFILE_RULE_EQUALS = 3     /* fires when the raw value equals `equals` (e.g. mode is
                                   free_passage) */
} profile_rule_kind_t;

typedef struct {
    const char *code;
    profile_rule_kind_t kind;
    profile_severity_t severity;
    const char *title;
    const char *advice;
    const profile_reg_t *reg; /* a numeric register (not string; bitfield only for equals) */
    int has_min, has_max;     /* threshold and rate bounds, in engineering units (per hour) */
    double min, max;
    int64_t equals; /* PROFILE_RULE_EQUALS: the raw value */
} profile_rule_t;

/* One event code of the event log. */
typedef struct {
    uint16_t code;
    const char *name; /* "passage_entry", "card_read", ... */
    profile_severity_t severity;
    const char *description;
} profile_event_t;

/*
 * The event log: a ring buffer of fixed-size records read through registers.
 *
 *   count  (input register, u16)   records held, 0..capacity
 *   head   (input register, u16)   slot the next record will be written to, 0..capacity-1
 *   select (holding register, u16) slot to show; writing it loads that slot into the window
 *   window (input registers window_address .. + record_words - 1) the selected record
 *
 * The oldest record is in slot (head - count) mod capacity, the newest in (head - 1) mod
 * capacity. A record's words: the fields listed in fields[] at their word offsets (always
 * "seq" u32, "timestamp" u32 seconds since 1970 UTC, "code" u16; more per model) and, in its
 * last word, a checksum: CRC-16/MODBUS (poly 0xA001 reflected, init 0xFFFF) over the
 * preceding words, each taken high byte first. A slot that holds no record reads as all
 * zeros. See decode_event() and docs/profiles.md.
 */
typedef struct {
    int present;                 /* 0 when the profile has no event log */
    uint16_t capacity;           /* slots in the ring, 1..65535 */
    uint16_t record_words;       /* words per record, checksum included, 6..32 */
    uint16_t window_address;     /* first input register of the window */
    const profile_reg_t *count;  /* input register, u16 */
    const profile_reg_t *head;   /* input register, u16 */
    const profile_reg_t *select; /* holding register, u16, rw */
    const profile_reg_t *fields; /* record fields, by ascending offset (address) */
    size_t nfields;
    const profile_reg_t *seq;       /* the "seq" field (u32) */
    const profile_reg_t *timestamp; /* the "timestamp" field (u32, seconds since 1970 UTC) */
    const profile_reg_t *code;      /* the "code" field (u16) */
    const profile_event_t *events;  /* by ascending code */
    size_t nevents;
    /* The finding reported when a record fails its checksum. */
    const char *corrupt_code;
    profile_severity_t corrupt_severity;
    const char *corrupt_title;
    const char *corrupt_advice;
} profile_event_log_t;

/* An action the engineer can run: one write of `value` to `reg` (a coil or a holding
 * register with access rw). For a coil value is 0 or 1; for a register it is the raw value
 * (an enumeration value's name in the file is resolved to its number). */
typedef struct {
    const char *name; /* "unlock_entry_once", "free_passage", "beep", "reboot", ... */
    profile_safety_t safety;
    const char *title;
    const char *description;
    const profile_reg_t *reg;
    int64_t value;
} profile_action_t;

/* Identification, as answered to FC 43/14 (basic device identification) and as registers. */
typedef struct {
    const char *vendor_name;             /* object 0x00 VendorName */
    const char *product_code;            /* object 0x01 ProductCode: the model, "TC-200" */
    const char *major_minor_revision;    /* object 0x02: firmware revision the profile describes,
                                            "2.4.0" (the simulator's default answer) */
    uint16_t model_code;                 /* value of input register 0 */
    const profile_reg_t *model_code_reg; /* input register 0, u16 */
    const profile_reg_t *serial_reg;     /* the serial number (string or u32) */
} profile_ident_t;

typedef struct profile {
    const char *path;        /* the file it came from, as given to the loader */
    const char *model;       /* == ident.product_code */
    const char *kind;        /* "turnstile_controller" or "reader_controller" */
    const char *title;       /* "TC-200 turnstile controller" */
    const char *description; /* "" when none */
    profile_ident_t ident;
    const profile_reg_t *regs; /* all registers, sorted by table then address */
    size_t nregs;
    const profile_reg_t *table_regs[PROFILE_NTABLES]; /* first register of each table in regs
                                                         (NULL when the table is empty) */
    size_t table_nregs[PROFILE_NTABLES];
    const profile_fault_t *faults; /* in file order */
    size_t nfaults;
    const profile_rule_t *rules; /* in file order */
    size_t nrules;
    profile_event_log_t event_log;
    const profile_action_t *actions; /* in file order */
    size_t nactions;
} profile_t;

/* The profiles of one folder. */
typedef struct profile_set profile_set_t;

/*
 * Load one profile file. Returns 0 and sets *out to a new profile (free with profile_free), or
 * a negative ACS_E* code with *out = NULL and a sentence in err (err may be NULL):
 *   ACS_ENOTFOUND  the file does not exist ("<path>: cannot open: No such file or directory")
 *   ACS_EINVAL     malformed JSON or a profile that breaks a rule ("<path>: <json path>: ...")
 *   ACS_EIO        the file cannot be read (permissions, I/O error)
 *   ACS_ETOOBIG    the file is larger than 1 MiB
 *   ACS_ENOMEM     out of memory
 */
int profile_load(const char *path, profile_t **out, char *err, size_t errlen);

/*
 * Like profile_load, from JSON text of len bytes; `origin` names it in messages (and becomes
 * profile->path). Same returns.
 */
int profile_parse(const char *json, size_t len, const char *origin, profile_t **out, char *err,
                  size_t errlen);

/* Free a profile from profile_load / profile_parse. NULL is a no-op. Never call it on a
 * profile owned by a set. */
void profile_free(profile_t *p);

/*
 * Load every *.json file of folder `dir` (in name order). Returns 0 and a new set in *out
 * (free with profile_set_free), or a negative code with *out = NULL: the first bad file is
 * reported exactly as profile_load reports it; two files with the same model or model code are
 * refused ("<path>: identification.model_code: 200 is already used by <other path>");
 * ACS_ENOTFOUND when the folder cannot be opened or holds no profile.
 */
int profile_set_load_dir(const char *dir, profile_set_t **out, char *err, size_t errlen);

/*
 * Load the folder named by the environment variable ACS_PROFILES when it is set and not
 * empty, otherwise the compile-time ACS_PROFILE_DIR (the source tree's drivers/profiles).
 * Same returns as profile_set_load_dir.
 */
int profile_set_load_default(profile_set_t **out, char *err, size_t errlen);

/* The folder profile_set_load_default would use now (not owned by the caller). */
const char *profile_default_dir(void);

/* Free a set and all its profiles. NULL is a no-op. */
void profile_set_free(profile_set_t *set);

/* Number of profiles in a set, and the i-th (in file-name order; NULL when i is past the end).
 * The set owns the profiles. */
size_t profile_set_count(const profile_set_t *set);
const profile_t *profile_set_at(const profile_set_t *set, size_t i);

/* The profile whose input register 0 model code is `code`, or NULL. */
const profile_t *profile_set_by_model_code(const profile_set_t *set, uint16_t code);

/* The profile whose ProductCode (model) is `product_code`, compared without regard to ASCII
 * case, or NULL. */
const profile_t *profile_set_by_product_code(const profile_set_t *set, const char *product_code);

/* The register named `name` in any table, or NULL. */
const profile_reg_t *profile_reg(const profile_t *p, const char *name);

/* Number of registers of one table, and the i-th of them by ascending address (NULL when i is
 * past the end or the table is not one of the four). */
size_t profile_table_count(const profile_t *p, profile_table_t table);
const profile_reg_t *profile_table_at(const profile_t *p, profile_table_t table, size_t i);

/* The register of `table` that covers `address` (a 32-bit or string register covers all its
 * words), or NULL. */
const profile_reg_t *profile_reg_at_address(const profile_t *p, profile_table_t table,
                                            uint16_t address);

/* A named bit of a bitfield register, or NULL. */
const profile_bit_t *profile_bit(const profile_reg_t *reg, const char *name);

/* An enumeration value by name / by raw value, or NULL. */
const profile_enum_t *profile_enum_by_name(const profile_reg_t *reg, const char *name);
const profile_enum_t *profile_enum_by_value(const profile_reg_t *reg, int64_t value);

/* A field of the event log record by name ("seq", "timestamp", "code", ...), or NULL. */
const profile_reg_t *profile_event_field(const profile_t *p, const char *name);

/* The event with this code, or NULL. */
const profile_event_t *profile_event(const profile_t *p, uint16_t code);

/* An action by name, or NULL. */
const profile_action_t *profile_action(const profile_t *p, const char *name);

/* A fault by finding code, or NULL. */
const profile_fault_t *profile_fault(const profile_t *p, const char *code);

/* Names as written in the files ("input", "float32", "low_first", "rw", "critical",
 * "disruptive", "threshold"); "?" for a value out of range. Static strings. */
const char *profile_table_name(profile_table_t table);
const char *profile_type_name(profile_type_t type);
const char *profile_word_order_name(profile_word_order_t order);
const char *profile_access_name(profile_access_t access);
const char *profile_severity_name(profile_severity_t severity);
const char *profile_safety_name(profile_safety_t safety);
const char *profile_rule_kind_name(profile_rule_kind_t kind);

#endif
