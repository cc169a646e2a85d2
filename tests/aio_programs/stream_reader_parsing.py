import asyncio


async def main():
    reader = asyncio.StreamReader()
    reader.feed_data(b"HEADER\r\nlength: 5\r\n\r\nhello")
    reader.feed_data(b"world;tail")
    reader.feed_eof()
    print(await reader.readuntil(b"\r\n"))
    print(await reader.readline())
    print(await reader.readuntil(b"\r\n"))
    print(await reader.readexactly(5))
    print(await reader.read(3))
    print(await reader.readuntil(b";"))
    try:
        await reader.readuntil(b";")
    except asyncio.IncompleteReadError as e:
        print("incomplete:", e.partial, e.expected)
    print("at_eof:", reader.at_eof(), await reader.read())

    reader = asyncio.StreamReader(limit=10)
    reader.feed_data(b"0123456789abcdef\nrest")
    try:
        await reader.readuntil(b"\n")
    except asyncio.LimitOverrunError as e:
        print("limit overrun, consumed:", e.consumed)
    print(await reader.read(4))
    try:
        await reader.readline()
    except ValueError as e:
        print("readline ValueError:", type(e).__name__)
    reader.feed_eof()
    print(await reader.read())

    reader = asyncio.StreamReader()
    reader.feed_data(b"ab")
    reader.feed_eof()
    try:
        await reader.readexactly(4)
    except asyncio.IncompleteReadError as e:
        print("readexactly:", e.partial, e.expected, isinstance(e, EOFError))
    print("empty read at eof:", await reader.read(), await reader.readline())

    reader = asyncio.StreamReader()
    reader.feed_data(b"line1\nline2\nlast")
    reader.feed_eof()
    print([line async for line in reader])


asyncio.run(main())
