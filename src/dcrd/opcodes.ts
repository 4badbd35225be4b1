// The script opcodes dcrvoted reads or writes, from dcrd txscript/opcode.go.
// One table, so a vote's, a ticket's and a tspend's scripts agree on them.

export const OP_DATA_20 = 0x14;
export const OP_DATA_30 = 0x1e;
export const OP_DATA_33 = 0x21;
export const OP_DATA_36 = 0x24;
export const OP_DATA_64 = 0x40;
export const OP_PUSHDATA1 = 0x4c;
export const OP_RETURN = 0x6a;
export const OP_DUP = 0x76;
export const OP_EQUAL = 0x87;
export const OP_EQUALVERIFY = 0x88;
export const OP_HASH160 = 0xa9;
export const OP_CHECKSIG = 0xac;
export const OP_SSTX = 0xba;
export const OP_SSGEN = 0xbb;
export const OP_SSRTX = 0xbc;
export const OP_SSTXCHANGE = 0xbd;
export const OP_TSPEND = 0xc2;
