# The echo/upper server of the seed tutorial "Python实现TCP通信" (section 1.2, 服务端,
# shared/seeds/002_0ad0cac62b3f80d2.txt), copied so CI's clean checkout has it.
# Changed from the original: the port comes from argv[1] (0 picks a free one) and is
# printed once listening, so a test can connect; the rest is the tutorial's code.
import socketserver
import sys

class MyRequestHandler(socketserver.BaseRequestHandler):
    def handle(self):
        while True:
            try:
                data = self.request.recv(1024)  # 最大接收的字节数
                if len(data) == 0:
                    break
                self.request.send(data.upper())
            except Exception:
                break
        self.request.close()

port = int(sys.argv[1]) if len(sys.argv) > 1 else 8080
server = socketserver.ThreadingTCPServer(('127.0.0.1', port), MyRequestHandler, bind_and_activate=True)
print(server.server_address[1], flush=True)
server.serve_forever()
