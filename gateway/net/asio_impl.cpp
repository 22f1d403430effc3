// Asio, its SSL support and Beast are compiled once, here, instead of in every translation
// unit that uses them (BOOST_ASIO_SEPARATE_COMPILATION / BOOST_BEAST_SEPARATE_COMPILATION are
// defined for the psycho_net target). This roughly halves the gateway's build time.
#include <boost/asio/impl/src.hpp>
#include <boost/asio/ssl/impl/src.hpp>
#include <boost/beast/src.hpp>
