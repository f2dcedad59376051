"""An SMTP server that advertises Exchange's private EHLO keywords (X-EXCH50, XEXCH50,
X-LINK2STATE, X-EXPS), for demos and tests of filters/10-exchange.yaml. Postfix cannot advertise
them. Usage: /usr/bin/python3 exchange-like-upstream.py PORT   (needs Debian's python3-aiosmtpd)
"""
import sys, time
from aiosmtpd.controller import Controller
class Exchange:
    async def handle_EHLO(self, server, session, envelope, hostname, responses):
        session.host_name = hostname
        return responses[:-1] + ["250-X-EXCH50", "250-XEXCH50", "250-X-LINK2STATE", "250-X-EXPS GSSAPI NTLM", responses[-1]]
    async def handle_DATA(self, server, session, envelope):
        return "250 2.6.0 Queued mail for delivery"
c = Controller(Exchange(), hostname="127.0.0.1", port=int(sys.argv[1]), server_hostname="exchange.test")
c.start()
while True: time.sleep(3600)
