"""The two Modbus checksums: LRC (ASCII framing) and CRC-16/MODBUS (RTU framing)."""

from __future__ import annotations


def lrc(data: bytes) -> int:
    """Longitudinal redundancy check: two's complement of the 8-bit sum of the binary bytes."""
    return (-sum(data)) & 0xFF


def _crc_table() -> tuple[int, ...]:
    table = []
    for byte in range(256):
        crc = byte
        for _ in range(8):
            crc = (crc >> 1) ^ 0xA001 if crc & 1 else crc >> 1
        table.append(crc)
    return tuple(table)


_CRC_TABLE = _crc_table()


def crc16(data: bytes) -> int:
    """CRC-16/MODBUS (poly 0xA001 reflected, init 0xFFFF). Sent on the wire low byte first."""
    crc = 0xFFFF
    table = _CRC_TABLE
    for byte in data:
        crc = (crc >> 8) ^ table[(crc ^ byte) & 0xFF]
    return crc


def crc16_bytes(data: bytes) -> bytes:
    """The CRC as it trails an RTU frame: low byte, then high byte."""
    return crc16(data).to_bytes(2, "little")
