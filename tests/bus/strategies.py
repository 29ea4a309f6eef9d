"""Hypothesis strategies shared by the bus tests."""

from __future__ import annotations

from hypothesis import strategies as st

from clu_doctor.bus.frames import READ_FUNCTIONS, Direction, Frame, ReadRequest

addresses = st.integers(1, 247)
read_functions = st.sampled_from(sorted(READ_FUNCTIONS))


def frames(max_data: int = 252) -> st.SearchStrategy[Frame]:
    """Any frame at all: every address and function byte, up to ``max_data`` data bytes."""
    return st.builds(
        Frame,
        st.integers(0, 255),
        st.integers(0, 255),
        st.binary(max_size=max_data),
        st.sampled_from(list(Direction)),
    )


@st.composite
def read_requests(draw: st.DrawFn, address: st.SearchStrategy[int] = addresses) -> ReadRequest:
    count = draw(st.integers(1, 125))
    start = draw(st.integers(0, 0x10000 - count))
    return ReadRequest(draw(address), start, count, draw(read_functions))


@st.composite
def read_exchanges(draw: st.DrawFn) -> tuple[ReadRequest, tuple[int, ...]]:
    """A read request and the registers of its normal reply."""
    request = draw(read_requests())
    registers = draw(
        st.lists(st.integers(0, 0xFFFF), min_size=request.count, max_size=request.count)
    )
    return request, tuple(registers)


def garbage_without_starts(max_size: int = 60) -> st.SearchStrategy[bytes]:
    """Line noise that contains no ASCII start character (``:`` or ``>``)."""
    return st.binary(max_size=max_size).map(lambda raw: raw.replace(b":", b"").replace(b">", b""))
