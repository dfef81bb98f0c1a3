filedesc://test.arc 0.0.0.0 19961104142103 text/plain 71
1 0 amber-test
URL IP-address Archive-date Content-type Archive-length

http://example.com/ 93.184.216.34 19961104142103 text/html 86
HTTP/1.0 200 OK
Content-Type: text/html
Content-Length: 21

<html>hello</html>


dns:example.com 10.0.0.1 19961104142104 text/dns 52
19961104142104
example.com.	3600	IN	A	93.184.216.34

http://example.com/a b.html 93.184.216.34 19961104142105 text/html 86
HTTP/1.0 200 OK
Content-Type: text/html
Content-Length: 21

<html>hello</html>


http://example.com/empty 93.184.216.34 19961104142106 text/plain 0

