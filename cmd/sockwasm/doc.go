// Command sockwasm serves Socket.IO clients with WebAssembly plugins.
//
//	sockwasm serve [--config FILE] [--listen ADDR]   serve until SIGINT/SIGTERM
//	sockwasm check [--config FILE]                   validate config and plugins
//	sockwasm new NAME [--lang go|as] [--dir DIR]     scaffold a plugin
//	sockwasm version                                 print the version
package main
