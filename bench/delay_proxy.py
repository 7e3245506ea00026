#!/usr/bin/env python3
"""A TCP proxy that holds every chunk the server sends for DELAY_MS before passing it on:
a back-end across a WAN, or one under load, for the slow back-end benchmark.

usage: delay_proxy.py LISTEN_PORT UPSTREAM_HOST UPSTREAM_PORT DELAY_MS

Listens on 127.0.0.1:LISTEN_PORT, prints "ready"; client bytes go upstream at once.
"""
import asyncio
import sys


async def pump(reader, writer, delay):
    try:
        while True:
            data = await reader.read(65536)
            if not data:
                break
            if delay:
                await asyncio.sleep(delay)
            writer.write(data)
            await writer.drain()
    except (ConnectionError, OSError):
        pass
    finally:
        try:
            writer.close()
        except OSError:
            pass


async def main():
    port, host, uport, delay = int(sys.argv[1]), sys.argv[2], int(sys.argv[3]), float(sys.argv[4]) / 1000

    async def handle(creader, cwriter):
        try:
            ureader, uwriter = await asyncio.open_connection(host, uport)
        except OSError:
            cwriter.close()
            return
        await asyncio.gather(pump(creader, uwriter, 0), pump(ureader, cwriter, delay))

    srv = await asyncio.start_server(handle, "127.0.0.1", port, backlog=1024)
    print("ready", flush=True)
    async with srv:
        await srv.serve_forever()


if __name__ == "__main__":
    asyncio.run(main())
